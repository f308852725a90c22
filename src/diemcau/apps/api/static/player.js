/* Điểm Cầu lecture player: attaches the HLS stream, follows the transcript, resumes, reports progress.
 *
 * No framework. The page inlines this script right after the player (a weak link pays no extra request for
 * it) and carries everything it needs in #player-config: sources, resume position, Vietnamese texts.
 * Streaming engine, per source: Chỉ nghe uses the browser's own HLS where there is one (Safari, iPhones,
 * Android, recent Chrome) — one audio playlist has nothing to adapt, and skipping hls.js (120 KB gzipped,
 * ~4 s at 256 kbps) is what lets it start in under 3 s on a first visit. Video uses hls.js where Media
 * Source Extensions play H.264/AAC (loaded on demand from /static/, cached for a year), else native HLS.
 * Chỉ nghe plays its Opus playlist (fMP4) where the chosen engine says it plays Opus — canPlayType for the
 * browser's own HLS, MediaSource.isTypeSupported for hls.js — and its AAC playlist otherwise.
 *
 * Progress: "heartbeat" = played from start to end since the last event (every heartbeatSeconds while
 * playing, and on pause), "seek" = jumped to end, "ended" = reached the end. Events get a client id and go
 * through a queue in localStorage, so a dropped connection or a closed tab loses nothing; the server
 * ignores ids it has already seen, so replaying is always safe.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("player-config").textContent);
  var video = document.getElementById("player");
  var menu = document.getElementById("rendition");
  var speedMenu = document.getElementById("speed");
  var statusLine = document.getElementById("player-status");
  var coverageLine = document.getElementById("coverage");
  var pane = null, lines = [], starts = [];  // the transcript, wired once the page has finished arriving
  var QUEUE = "diemcau.progress.queue", SEQ = "diemcau.progress.seq", EPOCH = Date.UTC(2025, 0, 1);
  var POSITION = "diemcau.position." + config.member + "." + config.lecture;  // this member's, on this device
  var hls = null, hlsLoading = null, current = null, spanStart = null, lastTime = 0, timer = null;
  var sending = false, shown = -1, transient = false;

  function text(key, values) {
    return (config.text[key] || "").replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }
  function say(message, passing) { statusLine.textContent = message; transient = !!passing; }
  function playNow() { video.play().catch(function () { say(text("press_play", {}), true); }); }
  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds)), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (s % 60 < 10 ? "0" : "") + (s % 60);
    return h ? h + ":" + mm + ":" + ss : (m < 10 ? "0" : "") + m + ":" + ss;
  }
  function load(key, fallback) {
    try {
      var value = localStorage.getItem(key);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or disabled */ }
  }
  function choice(key) { return config.choices.filter(function (c) { return c.key === key; })[0]; }

  /* --- which rendition, which engine ---------------------------------------------------------------- */
  function slowLink() {
    var c = navigator.connection || {};
    return !!c.saveData || /2g|3g/.test(c.effectiveType || "");
  }
  function firstChoice() {
    if (!navigator.onLine && choice("audio")) return "audio";  // offline: what offline.js stores (docs/player.md)
    var saved = load("diemcau.rendition", null);
    if (saved && choice(saved)) return saved;
    return slowLink() && choice("audio") ? "audio" : config.choices[0].key;
  }
  function nativeHls() { return !!video.canPlayType("application/vnd.apple.mpegurl"); }
  function mseWorks() {
    var MS = window.ManagedMediaSource || window.MediaSource;
    return !!(MS && MS.isTypeSupported && MS.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"'));
  }
  function loadHls() {
    if (window.Hls) return Promise.resolve(window.Hls);
    if (!hlsLoading) {
      hlsLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = config.hlsScript;
        script.onload = function () { window.Hls ? resolve(window.Hls) : reject(); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return hlsLoading;
  }
  function teardown() {
    if (hls) { hls.destroy(); hls = null; }
    video.removeAttribute("src");
  }
  function opusPlays(native) {
    // Chỉ nghe in Opus (fMP4, a third of AAC's bytes) where this engine says it plays it; else AAC (iOS < 17).
    if (native) return !!video.canPlayType('audio/mp4; codecs="opus"');
    var MS = window.ManagedMediaSource || window.MediaSource;
    return !!(MS && MS.isTypeSupported && MS.isTypeSupported('audio/mp4; codecs="opus"'));
  }
  function playlistOf(source, native) { return source.opus && opusPlays(native) ? source.opus : source.url; }
  function attachNative(url, at, play) {
    // preload="none": nothing is fetched before play; the start position is applied once metadata is in.
    video.src = url;
    if (at > 0) video.addEventListener("loadedmetadata", function () { video.currentTime = at; }, { once: true });
    if (play) playNow();
  }
  function attachHlsJs(Hls, url, at, play) {
    play = play || !video.paused;  // ▶ pressed while hls.js was still arriving (attaching resets the element)
    // Only the playlist loads before play (autoStartLoad off): opening the page to read costs no segments.
    var instance = new Hls({ autoStartLoad: false, startPosition: at > 0 ? at : -1, maxBufferLength: 30,
                             maxMaxBufferLength: 60, backBufferLength: 30, capLevelToPlayerSize: true });
    var recovered = 0, started = false;
    function start() {
      if (!started && hls === instance) { started = true; hls.startLoad(at > 0 ? at : -1); }
    }
    hls = instance;
    hls.on(Hls.Events.ERROR, function (_, data) {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        say(text("retrying", {}), true);
        setTimeout(function () { if (hls === instance) hls.startLoad(); }, 3000);
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && recovered++ < 3) {
        hls.recoverMediaError();
      } else {
        say(text("unsupported", {}));
      }
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    if (play) { start(); playNow(); } else video.addEventListener("play", start, { once: true });
  }
  function attach(key, at, play) {
    // A ▶ pressed before the stream was attached (hls.js still downloading on a slow link) is not lost:
    // attaching resets the element, so carry the wish over.
    play = play || !video.paused;
    var source = choice(key) || config.choices[0];
    current = source.key;
    menu.value = source.key;
    teardown();
    video.defaultPlaybackRate = video.playbackRate = parseFloat(speedMenu.value);
    // Once the member stores lectures (offline.js), their pages run under a service worker, which Chromium's own HLS
    // did not play through in our tests: hls.js does (plain fetches), and the worker has it on the device.
    var worker = !navigator.onLine || !!(navigator.serviceWorker && navigator.serviceWorker.controller);
    if (source.key === "audio" && nativeHls() && !(worker && mseWorks())) {
      return attachNative(playlistOf(source, true), at, play);
    }
    if (mseWorks()) {
      return loadHls().then(function (Hls) {
        if (current === source.key) attachHlsJs(Hls, playlistOf(source, false), at, play);
      }, function () {
        if (nativeHls()) attachNative(playlistOf(source, true), at, play);
        else say(text("library_missing", {}));
      });
    }
    if (nativeHls()) return attachNative(playlistOf(source, true), at, play);
    say(text("unsupported", {}));
  }

  /* --- progress events and their offline queue ------------------------------------------------------ */
  function eventId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return [].map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  function nextSeq() {
    // Seconds since 2025 (fits a 32-bit column for decades), kept strictly increasing on this device.
    var seq = Math.max(load(SEQ, 0) + 1, Math.floor((Date.now() - EPOCH) / 1000));
    save(SEQ, seq);
    return seq;
  }
  function record(kind, start, end) {
    var queue = load(QUEUE, []);
    queue.push({ lecture: config.lecture, url: config.progressUrl, member: config.member,
                 event: { event_id: eventId(), kind: kind, start: start, end: end, seq: nextSeq() } });
    save(QUEUE, queue.slice(-2000));
  }
  function closeSpan(kind) {
    if (spanStart !== null && lastTime - spanStart >= 0.25) record(kind, spanStart, lastTime);
    spanStart = video.paused ? null : lastTime;
  }
  function showCoverage(body) {
    if (body && typeof body.coverage_percent === "number") {
      coverageLine.textContent = text("coverage", { percent: Math.round(body.coverage_percent) });
    }
  }
  function mine() {
    // This member's queued events: on a phone two members share, another member's wait, unsent, for a page of
    // their own, so progress is never posted under someone else's login.
    return load(QUEUE, []).filter(function (q) { return q.member === config.member; });
  }
  function send(keepalive) {
    var queue = mine();
    if (sending || !queue.length) return;
    var url = queue[0].url, batch = queue.filter(function (q) { return q.url === url; }).slice(0, 200);
    var ids = batch.map(function (q) { return q.event.event_id; });
    sending = true;
    fetch(url, {
      method: "POST", credentials: "same-origin", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-Diemcau-Request": "1" },
      body: JSON.stringify({ events: batch.map(function (q) { return q.event; }) })
    }).then(function (response) {
      var final = response.ok || (response.status >= 400 && response.status < 500 &&
                                  [401, 408, 425, 429].indexOf(response.status) < 0);
      if (final) {  // delivered, or refused for good (kept, it would block the queue forever)
        save(QUEUE, load(QUEUE, []).filter(function (q) { return ids.indexOf(q.event.event_id) < 0; }));
      }
      return response.ok && url === config.progressUrl ? response.json().then(showCoverage) : null;
    }).then(function () {
      sending = false;
      if (mine().length && !keepalive) setTimeout(send, 1000);  // the rest of a long queue
    }, function () {
      sending = false;
      say(text("offline", {}), true);  // kept; sent again when the browser is back online, or in 30 s
    });
  }
  function pendingHere() {
    return mine().some(function (q) { return q.lecture === config.lecture; });
  }

  /* --- the transcript follows the sound ------------------------------------------------------------- */
  function segmentAt(time) {
    var low = 0, high = starts.length - 1, found = -1;
    while (low <= high) {
      var mid = (low + high) >> 1;
      if (starts[mid] <= time) { found = mid; low = mid + 1; } else { high = mid - 1; }
    }
    return found;
  }
  function follow() {
    if (!lines.length) return;
    var index = segmentAt(video.currentTime);
    if (index === shown) return;
    if (shown >= 0) lines[shown].classList.remove("now");
    shown = index;
    if (index < 0) return;
    var line = lines[index];
    line.classList.add("now");
    var top = line.offsetTop - pane.offsetTop;
    if (top < pane.scrollTop || top > pane.scrollTop + pane.clientHeight - line.offsetHeight) {
      pane.scrollTop = top - pane.clientHeight / 3;
    }
  }
  function playFrom(seconds) {
    if (video.readyState < 1) attach(current, seconds, true);
    else { video.currentTime = seconds; playNow(); }
  }
  function wireTranscript() {
    pane = document.getElementById("transcript");
    lines = pane ? [].slice.call(pane.querySelectorAll("a[data-start]")) : [];
    starts = lines.map(function (a) { return parseFloat(a.getAttribute("data-start")); });
    lines.forEach(function (line, index) {
      line.addEventListener("click", function (event) {
        event.preventDefault();
        playFrom(starts[index]);
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireTranscript);
  else wireTranscript();
  // The audio rendition offline.js stores: the playlist this player plays under the service worker (hls.js where
  // MSE works, so Opus where MSE plays it; else the browser's own HLS), so what is stored is what plays offline.
  function audioSource() {
    var source = choice("audio");
    return source ? { key: source.key, url: playlistOf(source, !mseWorks()) } : null;
  }
  // For the questions block below (the clock; the device store and ids, one way each) and offline.js.
  window.diemcauPlayer = {
    playFrom: playFrom, clock: clock, audioSource: audioSource, load: load, save: save, newId: eventId
  };

  /* --- media events --------------------------------------------------------------------------------- */
  video.addEventListener("playing", function () {
    if (spanStart === null) spanStart = video.currentTime;
    if (transient) say("");
    clearInterval(timer);
    timer = setInterval(function () { closeSpan("heartbeat"); send(); }, config.heartbeatSeconds * 1000);
  });
  video.addEventListener("timeupdate", function () {
    if (!video.seeking) lastTime = video.currentTime;
    follow();
  });
  video.addEventListener("pause", function () {
    clearInterval(timer);
    save(POSITION, Math.floor(video.currentTime));  // where to resume, offline too
    if (!video.ended) { closeSpan("heartbeat"); send(); }
  });
  video.addEventListener("seeking", function () {
    var from = lastTime;
    closeSpan("heartbeat");
    spanStart = null;
    record("seek", from, video.currentTime);
  });
  video.addEventListener("seeked", function () {
    lastTime = video.currentTime;
    if (!video.paused) spanStart = lastTime;
  });
  video.addEventListener("ended", function () {
    save(POSITION, Math.floor(video.duration || lastTime));  // at the end
    record("ended", spanStart === null ? lastTime : spanStart, video.duration || lastTime);
    spanStart = null;
    send();
  });
  window.addEventListener("pagehide", function () { closeSpan("heartbeat"); send(true); });
  window.addEventListener("online", function () { send(); });
  setInterval(send, 30000);

  /* --- the menus ------------------------------------------------------------------------------------ */
  menu.addEventListener("change", function () {
    var at = video.currentTime || lastTime, playing = !video.paused;
    closeSpan("heartbeat");
    spanStart = null;
    save("diemcau.rendition", menu.value);
    attach(menu.value, at, playing);
  });
  speedMenu.value = String(load("diemcau.speed", 1));
  if (!speedMenu.value) speedMenu.value = "1";  // a stored speed no longer offered
  speedMenu.addEventListener("change", function () {
    video.defaultPlaybackRate = video.playbackRate = parseFloat(speedMenu.value);
    save("diemcau.speed", parseFloat(speedMenu.value));
  });

  /* --- start: deep link, else where the member stopped ---------------------------------------------- */
  function begin(at, message, play) {
    if (message) say(message);
    attach(firstChoice(), at, !!play);
  }
  function resumeFrom(position, finished) {
    var near = config.duration && position > config.duration - 10;
    if (finished || near) {  // heard to the end last time (apps/api/pages/player.py says so): start over, and say why
      begin(0, text("heard_to_the_end", {}));
    } else if (position > 5) {
      begin(position, text("resume", { time: clock(position) }));
      var restart = document.createElement("button");
      restart.type = "button";
      restart.textContent = config.text.from_start || "0:00";
      restart.addEventListener("click", function () { playFrom(0); });
      statusLine.appendChild(restart);
    } else {
      begin(0, "");
    }
  }
  setInterval(function () {
    if (!video.paused) save(POSITION, Math.floor(video.currentTime));
  }, 5000);
  // offline.js (Tải về để học khi không có mạng) arrives after the page's load event, never before the first sound.
  window.addEventListener("load", function () {
    var offline = document.getElementById("offline-config"), script = document.createElement("script");
    if (!offline) return;
    script.src = JSON.parse(offline.textContent).script;
    document.head.appendChild(script);
  });
  send();  // anything left from an earlier visit, of any lecture
  if (typeof config.start !== "number" && !navigator.onLine) {  // a stored page opened offline at a search hit
    var asked = parseFloat(new URLSearchParams(location.search).get("t"));
    if (asked >= 0 && isFinite(asked)) config.start = config.duration ? Math.min(asked, config.duration) : asked;
  }
  if (typeof config.start === "number") {
    begin(config.start, text("start_at", { time: clock(config.start) }), true);
    return;
  }
  // This device's own position wins while its events are still queued (they are newer than the server's), and
  // offline, where this page is the copy stored on the device (its resume position is as old as the copy).
  var local = load(POSITION, null);
  if (local !== null && (pendingHere() || !navigator.onLine)) resumeFrom(local, false);
  else resumeFrom(config.resume || 0, !!config.finished);
})();

/* --- questions: ask at the current moment; answered questions as marks on the timeline -------------------
 * Owned by apps/api/routes/questions.py. #questions-config (in the page) carries the API URL, the duration and the
 * texts. GET lists what this member may see (their own, their cell's answered ones, those published to all);
 * POST asks at the moment the button was pressed. A mark or a time seeks the player there.
 * Offline: a question asked with no connection (or whose post fails on the network) is kept in localStorage
 * (QUEUE: url, moment, text, the moment it was asked, a client id made here, and the member who asked), shown
 * as "chờ gửi", and posted when the connection returns, by that member's page only (a shared phone); the server stores one question per (member, client id), so a replay after a lost
 * answer stores nothing twice (docs/questions.md, "Asked offline").
 */
(function () {
  "use strict";
  var node = document.getElementById("questions-config");
  if (!node) return;
  var config = JSON.parse(node.textContent), player = window.diemcauPlayer;
  var video = document.getElementById("player"), marks = document.getElementById("q-marks");
  var askButton = document.getElementById("q-ask"), form = document.getElementById("q-form");
  var box = document.getElementById("q-text"), sendButton = document.getElementById("q-send");
  var statusLine = document.getElementById("q-status"), list = document.getElementById("q-list");
  var moment = 0, QUEUE = "diemcau.questions.queue", flushing = false;

  function text(key, values) {
    return (config.text[key] || "").replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }
  function make(tag, className, content) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (content !== undefined) element.textContent = content;
    return element;
  }
  function seek(q) {
    if (player) player.playFrom(q.moment);
    else video.currentTime = q.moment;
  }
  function timeLink(q) {
    var link = make("a", "q-time", player.clock(q.moment));
    link.href = "?t=" + Math.floor(q.moment);
    link.addEventListener("click", function (event) { event.preventDefault(); seek(q); });
    return link;
  }
  function item(q) {
    var li = make("li"), head = make("p"), who = q.mine ? text("mine", {}) : text("from_cell", { unit: q.unit_name });
    li.id = "q-" + q.id;
    head.appendChild(timeLink(q));
    head.appendChild(document.createTextNode(q.text));
    li.appendChild(head);
    li.appendChild(make("p", "meta", who + (q.answered && q.scope === "all" ? " · " + text("published", {}) : "")));
    if (q.hidden) li.appendChild(make("p", "meta q-hidden", text("hidden_note", {})));  // the asker's own, hidden
    if (!q.answered) {
      li.appendChild(make("p", "meta", text("waiting", {})));
      return li;
    }
    var answer = make("div", "q-answer");
    answer.appendChild(make("b", "", text("answer_label", {}) + (q.answered_by_name ? " (" + q.answered_by_name + ")" : "") + ": "));
    answer.appendChild(document.createTextNode(q.answer));
    li.appendChild(answer);
    return li;
  }
  function mark(q) {
    var button = make("button");
    button.type = "button";
    button.style.left = Math.min(100, 100 * q.moment / config.duration) + "%";
    button.title = player.clock(q.moment) + " · " + q.text;
    button.setAttribute("aria-label", button.title);
    button.addEventListener("click", function () {
      seek(q);
      var li = document.getElementById("q-" + q.id);
      if (li && li.scrollIntoView) li.scrollIntoView({ block: "nearest" });
    });
    return button;
  }
  /* --- the offline queue of questions (separate from the progress queue; same device, same habits) ------- */
  function allQueued() { return player.load(QUEUE, []) || []; }
  function queued() {  // this member's: another member's questions on a shared phone wait for their own page
    return allQueued().filter(function (entry) { return entry.member === config.member; });
  }
  function keep(queue) { player.save(QUEUE, queue); }
  function pendingItem(entry) {  // a question kept on this device, not yet on the server
    var li = make("li", "q-queued"), head = make("p"), asked = new Date(entry.asked_at);
    head.appendChild(make("span", "q-time", player.clock(entry.moment)));
    head.appendChild(document.createTextNode(entry.text));
    li.appendChild(head);
    li.appendChild(make("p", "meta", text("queued", {}) + " · " + asked.toLocaleString("vi-VN")));
    return li;
  }
  function showQueued() {
    Array.prototype.slice.call(list.querySelectorAll(".q-queued")).forEach(function (li) { li.remove(); });
    queued().filter(function (entry) { return entry.url === config.url; }).forEach(function (entry) {
      list.appendChild(pendingItem(entry));
    });
  }
  function post(entry) {  // resolves to the stored question; rejects with .fromServer when refused for good
    return fetch(entry.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-Diemcau-Request": "1" },
      body: JSON.stringify({ moment: entry.moment, text: entry.text, client_id: entry.client_id })
    }).then(function (response) {
      if (response.status >= 500 || response.status === 401 || response.status === 403 || response.status === 429) {
        throw new Error("later");  // the hub's login or the server, not the question: try again later
      }
      return response.json().then(function (body) {
        if (response.ok) return body;
        var refused = new Error(typeof body.detail === "string" ? body.detail : text("failed", {}));
        refused.fromServer = true;  // a Vietnamese reason to show as it is
        throw refused;
      });
    });
  }
  function flush() {  // send what was asked offline, oldest first, each once; stop at the first network failure
    var queue = queued();
    if (flushing || !queue.length || navigator.onLine === false) return Promise.resolve();
    flushing = true;
    var sent = 0;
    function next() {
      var entry = queued()[0];
      if (!entry) return Promise.resolve();
      return post(entry).then(function () { sent += 1; }, function (error) {
        if (!error || !error.fromServer) throw error;
        statusLine.textContent = error.message;  // refused for good (e.g. the lecture withdrawn): dropped
      }).then(function () {
        keep(allQueued().filter(function (e) { return e.client_id !== entry.client_id; }));
        return next();
      });
    }
    return next().catch(function () { /* still offline: kept for the next 'online' or the next try */ })
      .then(function () {
        flushing = false;
        if (sent) statusLine.textContent = text("queued_sent", { count: sent });
        return refresh();
      });
  }
  function show(questions) {
    list.textContent = "";
    marks.textContent = "";
    if (!questions.length && !queued().some(function (e) { return e.url === config.url; })) {
      list.appendChild(make("li", "meta", text("none", {})));
    }
    questions.forEach(function (q) {
      list.appendChild(item(q));
      if (q.answered && !q.hidden && config.duration > 0) marks.appendChild(mark(q));
    });
    marks.hidden = !marks.firstChild;
    showQueued();
  }
  function refresh() {
    return fetch(config.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { if (!response.ok) throw response; return response.json(); })
      .then(show, function () {
        showQueued();
        statusLine.textContent = text(navigator.onLine ? "load_failed" : "load_offline", {});
      });
  }
  function close() {
    form.hidden = true;
    askButton.hidden = false;
  }
  askButton.addEventListener("click", function () {
    moment = Math.max(0, Math.min(video.currentTime || 0, config.duration || 0));
    document.getElementById("q-moment").textContent = text("ask_at", { time: player.clock(moment) });
    form.hidden = false;
    askButton.hidden = true;
    statusLine.textContent = "";
    box.focus();
  });
  document.getElementById("q-cancel").addEventListener("click", close);
  function keepOffline(entry) {  // no connection: on the device until it returns
    keep(allQueued().concat([entry]).slice(-200));
    box.value = "";
    close();
    statusLine.textContent = text("queued_saved", {});
    showQueued();
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var entry = { url: config.url, moment: moment, text: box.value, client_id: player.newId(),
                  asked_at: new Date().toISOString(), member: config.member };
    if (navigator.onLine === false) { keepOffline(entry); return; }
    sendButton.disabled = true;
    statusLine.textContent = text("sending", {});
    post(entry).then(function () {
      box.value = "";
      close();
      statusLine.textContent = text("sent", {});
      return refresh();
    }).catch(function (error) {
      if (error && error.fromServer) statusLine.textContent = error.message;  // refused: the text stays to fix
      else if (box.value.trim().length >= 3) keepOffline(entry);  // the link dropped: sent (once) when it returns
      else statusLine.textContent = text("failed", {});
    }).then(function () { sendButton.disabled = false; });
  });
  window.addEventListener("online", function () { flush(); });
  setInterval(function () { if (queued().length) flush(); }, 30000);
  refresh().then(flush);
})();
