// The quiz page's script (static, so the page's Content-Security-Policy needs no inline script): the form keeps a
// draft in localStorage and on the server, submits with a client id so a retry is not a second attempt, and a
// result still being graded is polled until it is ready.
(function(){
var f=document.getElementById("quiz");if(!f)return;
var d=f.dataset,st=document.getElementById("quiz-status"),timer;
var H={"Content-Type":"application/json","X-Diemcau-Request":"1"};
function id(){var a=new Uint8Array(12);crypto.getRandomValues(a);return Array.from(a,function(b){return("0"+b.toString(16)).slice(-2)}).join("")}
var cid=localStorage.getItem(d.key+":cid")||id();localStorage.setItem(d.key+":cid",cid);
function qs(){return Array.prototype.slice.call(f.querySelectorAll("fieldset"))}
function collect(){var a={};qs().forEach(function(q){var k=q.dataset.question,ty=q.dataset.type;
 if(ty=="multiple"){var v=[];q.querySelectorAll("input:checked").forEach(function(i){v.push(i.value)});if(v.length)a[k]=v}
 else if(ty=="single"||ty=="true_false"){var c=q.querySelector("input:checked");if(c)a[k]=c.value}
 else{var e=q.querySelector("input,textarea");if(e.value.trim())a[k]=e.value}});return a}
function restore(a){qs().forEach(function(q){var v=a[q.dataset.question];if(v==null)return;
 q.querySelectorAll("input[type=radio],input[type=checkbox]").forEach(function(i){i.checked=[].concat(v).indexOf(i.value)>=0});
 var e=q.querySelector("input[type=text],textarea");if(e)e.value=v})}
restore(JSON.parse(localStorage.getItem(d.key)||d.draft||"{}"));
f.addEventListener("input",function(){var a=collect();localStorage.setItem(d.key,JSON.stringify(a));st.textContent=d.saved;
 clearTimeout(timer);timer=setTimeout(function(){fetch(d.api+"/draft",{method:"PUT",headers:H,credentials:"same-origin",body:JSON.stringify({answers:a})}).catch(function(){})},1500)});
function done(){localStorage.removeItem(d.key);localStorage.removeItem(d.key+":cid");location.replace(location.pathname)}
function send(){clearTimeout(timer);st.textContent=d.sending;
 fetch(d.api+"/submissions?wait=5",{method:"POST",headers:H,credentials:"same-origin",body:JSON.stringify({client_id:cid,answers:collect()})})
 .then(function(r){return r.json().then(function(b){if(r.ok){done()}else{st.textContent=b.detail||r.status}})})
 .catch(function(){st.textContent=d.offline;setTimeout(send,5000)})}
f.addEventListener("submit",function(e){e.preventDefault();send()});
})();
(function(){var w=document.querySelector(".waiting[data-poll]");if(!w)return;
setInterval(function(){fetch(w.dataset.poll,{credentials:"same-origin"}).then(function(r){return r.json()}).then(function(b){if(b.status!="received")location.reload()}).catch(function(){})},1000)})();
