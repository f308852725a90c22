/* Điểm Cầu offline lessons: store a lecture on the device, list and remove what is stored, drop what the member
 * may no longer see. The service worker (sw.js) serves what is stored; this script fills and empties its caches.
 *
 * Loaded deferred by the portal, and by player.js after the player's load event (#offline-config carries the
 * URLs and the Vietnamese texts). Nothing is fetched until the member presses "Tải về để học khi không có
 * mạng"; the service worker is registered then, and unregistered when the last stored lecture is removed. A lecture is one cache, "diemcau-lecture-<id>":
 * its player page (which inlines player.js and holds the transcript), captions, poster, its materials (as the
 * page's "Tài liệu" list links them), the audio rendition (the
 * playlist and every segment it names, or the single audio file) and a JSON note {id, title, course, page,
 * bytes, stored, member, quizzes, skipped}. The member portal (/courses) and the scripts go to "diemcau-shell". A store that fails part-way is deleted whole.
 * Sync (each online visit of the portal or a player): a stored lecture the API no longer shows this member
 * (404: withdrawn, audience changed) is removed, and so is every lecture another member stored on this phone (a
 * shared phone: the note says who stored it; GET /api/me says who is logged in now).
 */
(function () {
  "use strict";
  var node = document.getElementById("offline-config");
  if (!node) return;
  var config = JSON.parse(node.textContent);
  var SHELL = "diemcau-shell", LECTURE = "diemcau-lecture-", NOTE = "/offline-note.json";
  var supported = "serviceWorker" in navigator && "caches" in window;

  function text(key, values) {
    return (config.text[key] || "").replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }
  function absolute(url, base) { return new URL(url, base || location.href).href; }
  function megabytes(bytes) { return (bytes / 1048576).toFixed(1).replace(".", ",") + " MB"; }
  function cacheName(id) { return LECTURE + id; }
  function noteKey(id) { return absolute(config.prefix + "/lectures/" + id + NOTE); }

  /* --- what a lecture is made of -------------------------------------------------------------------- */
  function audioSource(lecture) {
    // The one place that says which audio rendition is stored: the player's own choice when it offers one
    // (player.js picks the rendition this browser plays), else the page's.
    var player = window.diemcauPlayer;
    var source = player && player.audioSource ? player.audioSource() : null;
    return absolute(source ? source.url : lecture.audio);
  }
  function playlistFiles(url, depth) {
    // An HLS playlist and every URI it names (segments, the init segment, nested playlists); a single file
    // (the m4a) is itself.
    if (!/\.m3u8($|\?)/.test(url)) return Promise.resolve([url]);
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.text();
    }).then(function (body) {
      var found = [];
      body.split(/\r?\n/).forEach(function (line) {
        line = line.trim();
        var uri = /URI="([^"]+)"/.exec(line);
        if (uri) found.push(absolute(uri[1], url));
        else if (line && line[0] !== "#") found.push(absolute(line, url));
      });
      var nested = found.filter(function (f) { return /\.m3u8($|\?)/.test(f); });
      var files = found.filter(function (f) { return nested.indexOf(f) < 0; });
      if (depth > 2 || !nested.length) return [url].concat(files);
      return Promise.all(nested.map(function (n) { return playlistFiles(n, depth + 1); })).then(function (lists) {
        return [url].concat(files, [].concat.apply([], lists));
      });
    });
  }
  function materialLinks() { return [].slice.call(document.querySelectorAll("#materials li > a[href]")); }
  function materialChoice() {
    // The materials stored with a lecture: in the list's order, while together they stay within
    // player.offline_material_max_bytes, so a one-hour package keeps to its 12 MB (docs/player.md). The rest (a
    // scanned PDF, a heavy slide deck) stays out of the package: it downloads online as before, and the list
    // says why it is not on the device. {stored, skipped}: the links of each.
    var room = config.material_max, chosen = { stored: [], skipped: [] };
    materialLinks().forEach(function (a) {
      var size = Number(a.getAttribute("data-bytes")) || 0;
      if (size <= room) { chosen.stored.push(a); room -= size; } else { chosen.skipped.push(a); }
    });
    return chosen;
  }
  function materialFiles() {
    // The lecture's materials (the trainer's documents), as the player's "Tài liệu" list links them: stored with
    // the server's own headers (Content-Security-Policy: sandbox, the attachment disposition), which the worker
    // serves back unchanged with no connection. Those that do not fit are left out (materialChoice).
    return materialChoice().stored.map(function (a) { return a.href; });
  }
  function markSkipped(note) {
    // The materials a stored lecture left out get a note in the list (and lose it once the lecture is removed).
    materialLinks().forEach(function (a) {
      var mark = a.parentNode.querySelector(".offline-skipped");
      var skipped = !!note && (note.skipped || []).indexOf(a.href) >= 0;
      if (skipped && !mark) {
        mark = document.createElement("span");
        mark.className = "meta offline-skipped";
        mark.textContent = text("material_skipped", { size: megabytes(config.material_max) });
        a.parentNode.appendChild(mark);
      } else if (!skipped && mark) {
        mark.parentNode.removeChild(mark);
      }
    });
  }
  function shellFiles(lecture) {
    var scripts = [].slice.call(document.querySelectorAll("script[src]")).map(function (s) { return s.src; });
    // The member portal is /courses for everyone (for staff, / is their home, which lists nothing stored).
    return [absolute(config.prefix + "/courses")].concat(scripts, lecture && lecture.hls ? [absolute(lecture.hls)] : []);
  }

  /* --- the course's open quizzes, answered offline (quiz.js keeps and sends the attempt) -------------- */
  function storeQuizzes(cache, lecture) {
    // Each quiz of the lecture's course the member may take now (the API's can_take: enrolled, window open or
    // late work accepted, an attempt left): its page (the whole form, server-rendered) and the scripts it names
    // (quiz.js). [{title, page, bytes}] for the note; the portal links to them offline.
    if (!lecture.course_id) return Promise.resolve([]);
    var list = config.prefix + "/api/quizzes/" + encodeURIComponent(lecture.course_id);
    return fetch(list, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) throw new Error(list + ": " + response.status);
      return response.json();
    }).then(function (quizzes) {
      return Promise.all(quizzes.filter(function (quiz) { return quiz.can_take; }).map(function (quiz) {
        var page = absolute(config.prefix + "/quizzes/" + encodeURIComponent(quiz.course_id) + "/" +
                            encodeURIComponent(quiz.quiz_id));
        return put(cache, page).then(function (size) {
          return cache.match(page).then(function (hit) { return hit.text(); }).then(function (html) {
            var scripts = new DOMParser().parseFromString(html, "text/html").querySelectorAll("script[src]");
            return Promise.all([].map.call(scripts, function (s) { return put(cache, absolute(s.getAttribute("src"), page)); }));
          }).then(function (sizes) {
            return { title: quiz.title, page: page, bytes: sizes.reduce(function (a, b) { return a + b; }, size) };
          });
        });
      }));
    });
  }
  function quizLinks(note) {
    // The stored quizzes of a stored lecture, as links for the portal's list.
    return (note.quizzes || []).map(function (quiz) {
      var link = document.createElement("a");
      link.className = "offline-quiz";
      link.href = quiz.page;
      link.textContent = quiz.title;
      return link;
    });
  }

  /* --- storing, listing, removing ------------------------------------------------------------------- */
  function put(cache, url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok || response.redirected) throw new Error(url + ": " + response.status);
      return response.clone().blob().then(function (blob) {
        return cache.put(url, response).then(function () { return blob.size; });
      });
    });
  }
  function store(lecture, progress) {
    var name = cacheName(lecture.id), page = absolute(lecture.page);
    var files = [page, lecture.captions && absolute(lecture.captions), lecture.poster && absolute(lecture.poster)]
      .concat(materialFiles());
    return playlistFiles(audioSource(lecture), 0).then(function (audio) {
      var todo = files.filter(Boolean).concat(audio), done = 0, bytes = 0;
      return caches.open(name).then(function (cache) {
        function next() {
          if (done === todo.length) return bytes;
          return put(cache, todo[done]).then(function (size) {
            bytes += size;
            done += 1;
            progress(Math.floor(100 * done / todo.length));
            return next();
          });
        }
        return next().then(function () {
          return storeQuizzes(cache, lecture);
        }).then(function (quizzes) {
          quizzes.forEach(function (quiz) { bytes += quiz.bytes; });
          var note = { id: lecture.id, title: lecture.title, course: lecture.course, page: page, bytes: bytes,
                       member: config.member,
                       stored: new Date().toISOString(), quizzes: quizzes,
                       skipped: materialChoice().skipped.map(function (a) { return a.href; }) };
          return cache.put(noteKey(lecture.id), new Response(JSON.stringify(note),
                                                             { headers: { "Content-Type": "application/json" } }));
        });
      });
    }).then(function () {
      return worker(true);
    }).then(function () {
      return caches.open(SHELL).then(function (shell) {
        return Promise.all(shellFiles(lecture).map(function (url) { return put(shell, url); }));
      });
    }).catch(function (error) {
      return remove(lecture.id).then(function () { throw error; });  // nothing half-stored, no idle worker
    });
  }
  function worker(wanted) {
    // The worker exists only while something is stored: registered by the first store, gone with the last.
    if (wanted) return navigator.serviceWorker.register(config.worker, { scope: config.prefix + "/" });
    return navigator.serviceWorker.getRegistration(config.prefix + "/").then(function (registration) {
      return Promise.all([registration && registration.unregister(), caches.delete(SHELL)]);
    });
  }
  function remove(id) {
    return caches.delete(cacheName(id)).then(storedLectures).then(function (left) {
      return left.length ? null : worker(false);
    });
  }
  function storedLectures() {
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf(LECTURE) === 0; }).map(function (n) {
        var id = n.slice(LECTURE.length);
        return caches.open(n).then(function (cache) { return cache.match(noteKey(id)); }).then(function (hit) {
          return hit ? hit.json() : null;
        });
      }));
    }).then(function (notes) { return notes.filter(Boolean); });
  }
  function mine(notes) {
    // What this page's member stored: the only lectures a page lists, opens or searches (the sync removes the
    // others as soon as a page of this member loads online).
    return notes.filter(function (note) { return note.member === config.member; });
  }
  function myLectures() { return storedLectures().then(mine); }
  function keptAttempts(prefix) {
    // Whether an attempt answered offline is kept on the device under a key starting with ``prefix`` (quiz.js
    // keeps each as "diemcau:<member>:<course>/<quiz>:<n>:kept").
    for (var i = 0; i < localStorage.length; i++) {
      var key = localStorage.key(i);
      if (key.indexOf(prefix) === 0 && /:kept$/.test(key)) return true;
    }
    return false;
  }
  function whoami() {
    // The member logged in now (GET /api/me), or null when that cannot be known (logged out, no network).
    return fetch(config.prefix + "/api/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (me) { return me && me.username; }, function () { return null; });
  }
  function sync() {
    // A lecture another member stored on this phone is removed (a shared phone: their pages, progress and quiz
    // drafts are theirs; they can store it again under their own login). A stored lecture the member may no
    // longer see is removed: the API answers 404 for it, the same answer as for a lecture that does not exist.
    // Anything else (401 logged out, 5xx, no network) keeps it. Its quizzes that closed are dropped.
    if (!navigator.onLine) return Promise.resolve();
    return storedLectures().then(function (notes) {
      return notes.length ? whoami().then(function (me) { return [notes, me]; }) : [[], null];
    }).then(function (found) {
      var me = found[1];
      return Promise.all(found[0].map(function (note) {
        if (me && note.member !== me) return remove(note.id);
        return fetch(config.prefix + "/api/lectures/" + encodeURIComponent(note.id),
                     { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            if (response.status === 404) return remove(note.id);
            return response.ok ? dropClosedQuizzes(note, me || config.member) : null;
          }, function () {});
      }));
    });
  }
  function quizPath(quiz) {
    // [course, quiz] of a stored quiz, from its page's address (/quizzes/<course>/<quiz>).
    return new URL(quiz.page).pathname.split("/").slice(-2).map(decodeURIComponent);
  }
  function dropClosedQuizzes(note, member) {
    // A stored quiz the member may no longer take (its window closed, no attempt left, withdrawn: the API's
    // can_take) is dropped from the device, unless an attempt at it is still kept here (its page is where that
    // attempt's fate is shown). The API not answering keeps everything.
    var quizzes = note.quizzes || [];
    if (!quizzes.length) return null;
    var course = quizPath(quizzes[0])[0];
    return fetch(config.prefix + "/api/quizzes/" + encodeURIComponent(course),
                 { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (open) {
      if (!open) return null;
      var takeable = open.filter(function (q) { return q.can_take; }).map(function (q) { return q.quiz_id; });
      var drop = quizzes.filter(function (quiz) {
        var path = quizPath(quiz);
        return !keptAttempts("diemcau:" + member + ":" + path[0] + "/" + path[1] + ":") && takeable.indexOf(path[1]) < 0;
      });
      if (!drop.length) return null;
      return caches.open(cacheName(note.id)).then(function (cache) {
        return Promise.all(drop.map(function (quiz) { return cache.delete(quiz.page); })).then(function () {
          note.quizzes = quizzes.filter(function (quiz) { return drop.indexOf(quiz) < 0; });
          drop.forEach(function (quiz) { note.bytes -= quiz.bytes; });
          return cache.put(noteKey(note.id), new Response(JSON.stringify(note),
                                                          { headers: { "Content-Type": "application/json" } }));
        });
      });
    }, function () {});
  }

  /* --- the player's block ------------------------------------------------------------------------- */
  function playerBlock(lecture) {
    var box = document.getElementById("offline"), save = document.getElementById("offline-save");
    var line = document.getElementById("offline-status"), drop = document.getElementById("offline-remove");
    function show(note) {
      save.hidden = !!note;
      drop.hidden = !note;
      line.textContent = note ? text("saved", { size: megabytes(note.bytes) }) : "";
      markSkipped(note);
    }
    function refresh() {
      return myLectures().then(function (notes) {
        show(notes.filter(function (n) { return n.id === lecture.id; })[0]);
      });
    }
    box.hidden = false;
    if (!supported) {
      save.hidden = true;
      line.textContent = text("unsupported", {});
      return Promise.resolve();
    }
    save.addEventListener("click", function () {
      save.disabled = true;
      line.textContent = text("saving", { percent: 0 });
      // Ask the browser not to evict what is stored under storage pressure (granted or not, storing goes on).
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
      store(lecture, function (percent) { line.textContent = text("saving", { percent: percent }); })
        .then(refresh, function (error) {
          line.textContent = text(error && error.name === "QuotaExceededError" ? "full" : "failed", {});
        })
        .then(function () { save.disabled = false; });
    });
    drop.addEventListener("click", function () {
      remove(lecture.id).then(function () { show(null); line.textContent = text("removed", {}); });
    });
    return refresh();
  }

  /* --- quiz attempts kept on the device: sent from any page ---------------------------------------------- */
  function sendKept() {
    // An attempt answered offline (quiz.js keeps it as "diemcau:<member>:<course>/<quiz>:<n>:kept") is sent once
    // the connection is back from the portal and the player too, not only from its quiz page: quiz.js, the one
    // sender (same client id, only the logged-in member's), is loaded here when the device keeps one.
    if (!config.quiz_script || document.getElementById("kept-sender")) return;
    if (!keptAttempts("diemcau:")) return;
    var script = document.createElement("script");
    script.id = "kept-sender";
    script.src = config.quiz_script;
    script.dataset.quizzes = config.prefix + "/api/quizzes/";
    script.dataset.me = config.prefix + "/api/me";
    script.onerror = function () { script.remove(); };  // offline and not stored: tried again when online
    document.head.appendChild(script);
  }

  /* --- the portal's list ---------------------------------------------------------------------------- */
  function portalList() {
    var section = document.getElementById("offline-list");
    if (!section || !supported) return Promise.resolve();
    var list = section.querySelector("ul");
    document.getElementById("offline-note").hidden = navigator.onLine;
    return myLectures().then(function (notes) {
      list.textContent = "";
      notes.sort(function (a, b) { return a.title < b.title ? -1 : 1; }).forEach(function (note) {
        var li = document.createElement("li"), link = document.createElement("a"), meta = document.createElement("span");
        var drop = document.createElement("button");
        li.className = "card";
        link.href = note.page;
        link.textContent = note.title;
        meta.className = "meta";
        meta.textContent = " " + note.course + " · " + megabytes(note.bytes) + " ";
        drop.type = "button";
        drop.textContent = text("remove", {});
        drop.addEventListener("click", function () { remove(note.id).then(portalList); });
        li.appendChild(link);
        li.appendChild(meta);
        li.appendChild(drop);
        quizLinks(note).forEach(function (link) { li.appendChild(document.createElement("br")); li.appendChild(link); });
        list.appendChild(li);
      });
      section.hidden = !notes.length;
    });
  }

  /* --- search inside the stored transcripts, with no connection -------------------------------------- */
  function folded(value) {
    // Vietnamese without its marks, lower case: "Nghị quyết" and "nghi quyet" find each other.
    return value.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }
  function searchStored(query) {
    var words = folded(query).split(/\s+/).filter(Boolean);
    return myLectures().then(function (notes) {
      return Promise.all(notes.map(function (note) {
        return caches.match(note.page).then(function (hit) { return hit ? hit.text() : ""; }).then(function (html) {
          var lines = new DOMParser().parseFromString(html, "text/html").querySelectorAll("#transcript a[data-start]");
          return [].slice.call(lines).filter(function (line) {
            var said = folded(line.textContent);
            return words.length && words.every(function (w) { return said.indexOf(w) >= 0; });
          }).map(function (line) {
            return { note: note, start: parseFloat(line.getAttribute("data-start")), line: line };
          });
        });
      }));
    }).then(function (found) { return [].concat.apply([], found).slice(0, 100); });
  }
  function showHits(query, hits) {
    var section = document.getElementById("offline-search"), list = section.querySelector("ul");
    section.querySelector("h2").textContent = text(hits.length ? "search_heading" : "search_none", { query: query });
    list.textContent = "";
    hits.forEach(function (hit) {
      var li = document.createElement("li"), link = document.createElement("a");
      li.className = "card";
      link.href = hit.note.page + "?t=" + Math.floor(hit.start);
      link.textContent = hit.line.querySelector("time").textContent + " " + hit.line.querySelector("span").textContent;
      li.appendChild(link);
      li.appendChild(document.createTextNode(" · " + hit.note.title));
      list.appendChild(li);
    });
    section.hidden = false;
  }
  function offlineSearch() {
    var form = document.querySelector("form.search");
    if (!form || !supported) return;
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) return;  // online: the server's search (/search)
      event.preventDefault();
      var query = form.querySelector("input[name=q]").value.trim();
      searchStored(query).then(function (hits) { showHits(query, hits); });
    });
  }

  function render() { return config.lecture ? playerBlock(config.lecture) : portalList(); }
  if (!config.lecture) offlineSearch();
  if (!supported) { render(); sendKept(); window.addEventListener("online", sendKept); return; }
  function start() { sendKept(); sync().then(render, render); }
  if (document.readyState === "complete") start();  // the player loads this script after its load event
  else window.addEventListener("load", start);
  window.addEventListener("online", function () { sendKept(); sync().then(render, render); });
  window.diemcauOffline = { stored: storedLectures, sync: sync };  // for tests and the later slices
})();
