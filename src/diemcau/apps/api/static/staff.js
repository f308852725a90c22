// The staff home's script (static, for the Content-Security-Policy; its words come from the page's data- attributes):
// copy the Zalo reminder in one tap, and record a group screening, saying in Vietnamese what is missing.
(function(){
var b=document.getElementById("copy"),ta=document.getElementById("reminder-text"),m=document.getElementById("copy-msg");
if(b&&ta){b.addEventListener("click",function(){
 function selected(){ta.focus();ta.select();ta.setSelectionRange(0,ta.value.length);
  var ok=false;try{ok=document.execCommand("copy")}catch(e){}m.textContent=ok?b.dataset.copied:b.dataset.selected}
 if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(ta.value).then(function(){m.textContent=b.dataset.copied},selected)}
 else{selected()}})}
var f=document.getElementById("screening-form");if(!f)return;
var d=f.dataset,out=document.getElementById("screening-msg");
function say(text,ok){out.textContent=text;out.className="msg "+(ok?"ok":"bad")}
f.addEventListener("submit",function(e){e.preventDefault();
 var members=[];f.querySelectorAll("input[name=members]:checked").forEach(function(i){members.push(i.value)});
 var lecture=f.lecture.value,day=f.held_on.value,missing=[];
 if(!lecture)missing.push(d.noLecture);if(!day)missing.push(d.noDate);if(!members.length)missing.push(d.noMembers);
 if(missing.length){say(missing.join("\n"),false);return}
 say(d.sending,true);
 fetch(d.api,{method:"POST",credentials:"same-origin",headers:{"Content-Type":"application/json","X-Diemcau-Request":"1"},
  body:JSON.stringify({lecture_id:lecture,held_on:day,place:f.place.value,members:members})})
 .then(function(r){return r.json().then(function(x){
  if(r.ok){say(d.saved.replace("{count}",x.members.length).replace("{title}",f.lecture.selectedOptions[0].text),true);
   f.querySelectorAll("input[name=members]").forEach(function(i){i.checked=false})}
  else{say(x.message||(typeof x.detail=="string"?x.detail:r.status),false)}})})
 .catch(function(){say(d.offline,false)})});
})();
