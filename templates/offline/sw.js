/* fairsite's service worker, rendered by fairsite/offline/public.py: keeps the files a booth
   page needs, and a copy of each booth page opened, so that it reopens without a network. */
"use strict";
const CACHE = "fairsite-{{ version }}";
const PRECACHE = {{ precache|tojson }};
const PAGES = {{ pages|tojson }};
const OFFLINE_PAGE = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">' +
  '<link rel="stylesheet" href="' + PRECACHE[0] + '"><title>' + {{ offline_title|tojson }} + '</title></head>' +
  '<body class="public"><main class="container"><section class="card notice"><h1>' + {{ offline_title|tojson }} +
  '</h1><p class="lead">' + {{ offline_message|tojson }} + '</p></section></main></body></html>';

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((key) => key.startsWith("fairsite-") && key !== CACHE).map((key) => caches.delete(key))
  )).then(() => self.clients.claim()));
});

function keptPage(request) {
  return fetch(request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  // ignoreVary: the page varies by Cookie and Accept-Language for the HTTP caches on the way; the
  // copy here is this phone's own, whatever headers the request that kept it carried.
  }).catch(() => caches.open(CACHE).then((cache) => cache.match(request, {ignoreVary: true})).then((hit) => hit ||
    new Response(OFFLINE_PAGE, {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}})));
}

// A page asks to be kept (its first load came before the worker): kept if it is one we keep.
self.addEventListener("message", (event) => {
  const url = event.data && event.data.keep ? new URL(event.data.keep, self.location.origin) : null;
  if (!url || url.origin !== self.location.origin || !PAGES.some((prefix) => url.pathname.startsWith(prefix))) return;
  // From the browser's own cache (it just loaded the page): no second download. The page
  // varies by Cookie and its first load went without one (the answer set the session cookie),
  // so the copy is asked for without credentials; when it is not there, the page is fetched.
  const cached = fetch(url.href, {credentials: "omit", cache: "only-if-cached", mode: "same-origin"})
    .then((response) => response.ok ? response : null, () => null);
  event.waitUntil(cached.then((hit) => hit || fetch(url.href, {credentials: "same-origin", cache: "force-cache"}))
    .then((response) => {
      if (response.ok) return caches.open(CACHE).then((cache) => cache.put(url.href, response));
    }).catch(() => {}));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (PRECACHE.includes(url.pathname + url.search)) {
    event.respondWith(caches.open(CACHE).then((cache) => cache.match(request)).then((hit) => hit || fetch(request)));
  } else if (request.mode === "navigate" && PAGES.some((prefix) => url.pathname.startsWith(prefix))) {
    event.respondWith(keptPage(request));
  }
});
