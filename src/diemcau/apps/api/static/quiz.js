// The quiz page's script (static, so the page's Content-Security-Policy needs no inline script): the form keeps a
// draft in localStorage and on the server, submits with a client id so a retry is not a second attempt, and a
// result still being graded is polled until it is ready.
// An attempt submitted with no connection is kept on the device ("<form key>:kept": client id and answers) and
// sent once the connection is back (the "online" event, or the page's next load online); the server judges the
// window and attempts when it arrives. Refused (409: closed meanwhile, no attempt left), it stays on the device,
// shown as not accepted with the server's reason, until the member removes it (docs/quizzes.md, "Offline").
// Every kept attempt of the member is sent, whatever its quiz: by a quiz page, and by the portal and the player,
// whose offline.js loads this script (data-quizzes, data-me) when the device keeps one. Only the logged-in
// member's (GET /api/me, asked before each round): a shared phone never sends one member's under another's login.
(function(){
var f=document.getElementById("quiz"),k=document.getElementById("quiz-kept"),me=document.currentScript;
var c=k?k.dataset:me&&me.dataset;if(!c||!c.quizzes)return;
var st=document.getElementById("quiz-status"),timer,busy={},member=k?c.member:null;
var H={"Content-Type":"application/json","X-Diemcau-Request":"1"};
function id(){var a=new Uint8Array(12);crypto.getRandomValues(a);return Array.from(a,function(b){return("0"+b.toString(16)).slice(-2)}).join("")}
function say(text){if(!k)return;if(st)st.textContent=text;else if(text){k.hidden=false;k.querySelector("p").textContent=text}}
function own(item){return!!k&&item.key.indexOf(c.prefix)===0}
// A kept attempt: its key, its value and its quiz ("<course>/<quiz>", read from the key), the one shape post() sends.
function entry(key,value,who){return{key:key,value:value,quiz:key.slice(("diemcau:"+who+":").length).split(":")[0]}}
function kept(who){var found=[],start="diemcau:"+who+":";for(var i=0;i<localStorage.length;i++){var key=localStorage.key(i);
 if(who&&key.indexOf(start)===0&&/:kept$/.test(key)){try{found.push(entry(key,JSON.parse(localStorage.getItem(key)),who))}catch(e){}}}return found}
function forget(item){var draft=item.key.slice(0,-5);localStorage.removeItem(item.key);localStorage.removeItem(draft);localStorage.removeItem(draft+":cid")}
function refused(item,reason){item.value.refused=reason;localStorage.setItem(item.key,JSON.stringify(item.value));show()}
function show(){var bad=kept(member).filter(function(i){return own(i)&&i.value.refused})[0];if(!k)return;k.hidden=!bad;if(!bad)return;
 k.querySelector("p").textContent=k.dataset.refused+" "+bad.value.refused;var ul=k.querySelector("ul");ul.textContent="";
 Object.keys(bad.value.answers).forEach(function(q){var li=document.createElement("li");li.textContent=q+": "+[].concat(bad.value.answers[q]).join(", ");ul.appendChild(li)});
 k.querySelector("button").onclick=function(){forget(bad);show()}}
function post(item){if(busy[item.key]||item.value.refused)return;busy[item.key]=true;if(own(item))say(f?f.dataset.sending:"");
 fetch(c.quizzes+item.quiz+"/submissions?wait=5",{method:"POST",headers:H,credentials:"same-origin",body:JSON.stringify({client_id:item.value.cid,answers:item.value.answers})})
 .then(function(r){return r.json().then(function(b){busy[item.key]=false;
  if(r.ok){forget(item);if(own(item))location.replace(location.pathname)}
  else if(r.status==409){if(own(item))say("");refused(item,b.detail||String(r.status))}
  else if(r.status>=400&&r.status<500&&r.status!=401&&r.status!=408&&r.status!=429){localStorage.removeItem(item.key);if(own(item))say(b.detail||r.status)}
  else if(own(item))say(c.offline)})})
 .catch(function(){busy[item.key]=false;if(own(item))say(c.offline)})}
function sendKept(){if(!kept(member||"").length&&k)return;
 fetch(c.me,{credentials:"same-origin",headers:{Accept:"application/json"}}).then(function(r){return r.ok?r.json():null}).then(function(who){
  if(who&&!k)member=who.username;if(who&&who.username===member)kept(member).forEach(post)},function(){if(k&&kept(member).some(function(i){return!i.value.refused}))say(c.offline)})}
show();
if(f){var d=f.dataset,cid=localStorage.getItem(d.key+":cid")||id();localStorage.setItem(d.key+":cid",cid);
 var qs=function(){return Array.prototype.slice.call(f.querySelectorAll("fieldset"))};
 var collect=function(){var a={};qs().forEach(function(q){var k=q.dataset.question,ty=q.dataset.type;
  if(ty=="multiple"){var v=[];q.querySelectorAll("input:checked").forEach(function(i){v.push(i.value)});if(v.length)a[k]=v}
  else if(ty=="single"||ty=="true_false"){var c=q.querySelector("input:checked");if(c)a[k]=c.value}
  else{var e=q.querySelector("input,textarea");if(e.value.trim())a[k]=e.value}});return a};
 var restore=function(a){qs().forEach(function(q){var v=a[q.dataset.question];if(v==null)return;
  q.querySelectorAll("input[type=radio],input[type=checkbox]").forEach(function(i){i.checked=[].concat(v).indexOf(i.value)>=0});
  var e=q.querySelector("input[type=text],textarea");if(e)e.value=v})};
 restore(JSON.parse(localStorage.getItem(d.key)||d.draft||"{}"));
 f.addEventListener("input",function(){var a=collect();localStorage.setItem(d.key,JSON.stringify(a));st.textContent=d.saved;
  clearTimeout(timer);timer=setTimeout(function(){fetch(d.api+"/draft",{method:"PUT",headers:H,credentials:"same-origin",body:JSON.stringify({answers:a})}).catch(function(){})},1500)});
 f.addEventListener("submit",function(e){e.preventDefault();clearTimeout(timer);
  // Kept before it is sent: a closed tab or a dropped link loses nothing; a success forgets it.
  var item=entry(d.key+":kept",{cid:cid,answers:collect()},member);localStorage.setItem(item.key,JSON.stringify(item.value));
  busy[item.key]=false;post(item)})}
if(navigator.onLine)sendKept();else if(kept(member).some(function(i){return own(i)&&!i.value.refused}))say(c.offline);
window.addEventListener("online",sendKept);
setInterval(function(){if(navigator.onLine&&kept(member||"").length)sendKept()},10000);  // a link that drops without the browser noticing
})();
(function(){var w=document.querySelector(".waiting[data-poll]");if(!w)return;
setInterval(function(){fetch(w.dataset.poll,{credentials:"same-origin"}).then(function(r){return r.json()}).then(function(b){if(b.status!="received")location.reload()}).catch(function(){})},1000)})();
