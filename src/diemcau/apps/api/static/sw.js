/* Điểm Cầu service worker: lectures stored on the device play with no connection (docs/player.md, "Offline").
 *
 * Served at <prefix>/sw.js (scope: the portal and everything under it) and registered by offline.js when the
 * member stores a lecture (and unregistered when the last one is removed): a member who never stores one never
 * has it. It precaches nothing and fetches nothing on its own. offline.js fills the caches:
 *   diemcau-shell         the member portal (/courses) and the pages' scripts (offline.js, hls.js),
 *   diemcau-lecture-<id>  one lecture: its player page, captions, poster, materials, audio playlist and
 *                         segments, and a small JSON note of what it is (title, bytes).
 * Requests:
 *   pages (navigations)   the portal (/, /courses), the players (/lectures/<id>) and the quizzes stored with a
 *                         lecture (/quizzes/<course>/<quiz>) only. Network first; a copy
 *                         already stored is refreshed; with no network, the stored copy of that path (any ?t=),
 *                         else a redirect to the stored member portal, which lists what is stored;
 *   media, captions,      from the caches when stored (a Range request gets its 206 slice of the whole stored
 *   /static/ assets       file, as Workbox's range-requests plugin does), else the network. A fetched /static/
 *                         asset is added to the shell (names are content-hashed: a stored copy never goes stale);
 *   materials             network first (a replaced or withdrawn document is never served stale online); with
 *                         no network, the stored response as the server sent it, its headers unchanged
 *                         (Content-Security-Policy: sandbox, Content-Disposition), a Range sliced from it;
 *   anything else         not touched: the API, the hub.
 * Nothing is sent anywhere but to this origin; POSTs (progress, questions) are never touched.
 */
"use strict";
var SHELL = "diemcau-shell", MINE = "diemcau-";
var SCOPE = new URL(self.registration.scope).pathname;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function stored(key, options) {
  return caches.match(key, Object.assign({ ignoreVary: true }, options || {}));
}

function slice(request, response) {
  // A stored file is whole (200); a media element asks for byte ranges of it.
  var range = request.headers.get("range");
  if (!range || response.status !== 200) return response;
  var match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  return response.blob().then(function (blob) {
    var size = blob.size, start, end;
    if (match && match[1] !== "") {
      start = Number(match[1]);
      end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
    } else if (match && match[2] !== "") {
      start = Math.max(0, size - Number(match[2]));
      end = size - 1;
    }
    if (start === undefined || start > end || start >= size) {
      return new Response(null, { status: 416, headers: { "Content-Range": "bytes */" + size } });
    }
    var headers = new Headers(response.headers);
    headers.set("Content-Range", "bytes " + start + "-" + end + "/" + size);
    headers.set("Content-Length", String(end - start + 1));
    return new Response(blob.slice(start, end + 1), { status: 206, statusText: "Partial Content", headers: headers });
  });
}

function refreshStored(key, response) {
  // Keep a stored page current (resume position, coverage) each time it is opened online.
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf(MINE) === 0; }).map(function (name) {
      return caches.open(name).then(function (cache) {
        return cache.match(key).then(function (hit) { return hit ? cache.put(key, response.clone()) : null; });
      });
    }));
  });
}

function page(event, url) {
  var key = url.origin + url.pathname;
  return fetch(event.request).then(function (response) {
    if (response.ok && !response.redirected) event.waitUntil(refreshStored(key, response.clone()));
    return response;
  }, function (offline) {
    var portal = url.origin + SCOPE + "courses";
    return stored(key).then(function (hit) {
      return hit || stored(portal).then(function (home) {
        if (!home) throw offline;
        return Response.redirect(portal, 302);  // to its own address, so that its relative links work
      });
    });
  });
}

function asset(event, url) {
  return fetch(event.request).then(function (response) {
    if (response.ok && url.pathname.indexOf(SCOPE + "static/") === 0) {
      var copy = response.clone();
      event.waitUntil(caches.has(SHELL).then(function (has) {
        return has ? caches.open(SHELL).then(function (cache) { return cache.put(event.request.url, copy); }) : null;
      }));
    }
    return response;
  });
}

// The only requests it answers: the portal's, the players' and the quizzes' pages, and what a stored lecture is
// made of (materials below). Anything else (the API, the hub) goes to the network as if there were no worker.
var PAGES = /^(courses|lectures\/[A-Za-z0-9]+|quizzes\/[\w-]+\/[\w-]+)?$/, FILES = /^(static\/|api\/media\/|api\/lectures\/[A-Za-z0-9]+\/captions\.vtt$)/;

// A lecture's material (a download, a navigation, or a fetch): network first, the stored copy with no network.
var MATERIAL = /^api\/lectures\/[A-Za-z0-9]+\/materials\/[^/]+$/;

function material(event) {
  var request = event.request;
  return fetch(request).catch(function (offline) {
    return stored(request.url).then(function (hit) {
      if (!hit) throw offline;
      return slice(request, hit);  // the server's own response, headers and all
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf(SCOPE) !== 0) return;
  var path = url.pathname.slice(SCOPE.length);
  if (MATERIAL.test(path)) {
    event.respondWith(material(event));
    return;
  }
  if (request.mode === "navigate") {
    if (PAGES.test(path)) event.respondWith(page(event, url));
    return;
  }
  if (!FILES.test(path)) return;
  event.respondWith(stored(request).then(function (hit) { return hit ? slice(request, hit) : asset(event, url); }));
});
