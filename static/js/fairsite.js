/* fairsite: the site's own behaviour, wired by data attributes (the Content-Security-Policy
   allows no inline script and no eval, so none lives in the templates). Every page works
   without it; it prints, falls back to polling, and keeps a form someone is typing in. */
(function () {
  "use strict";

  // <button data-print>: print the page (posters, slips, the day report).
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-print]");
    if (button) {
      e.preventDefault();
      window.print();
    }
  });

  // --- Event streams and the polling fallback ------------------------------------------
  // Where Server-Sent Events cannot connect (some in-app browsers and proxies, a refused
  // stream), elements with data-poll-offline="<ms>" get an "fs:poll" event that often (their
  // hx-trigger lists it) until the page's stream opens; they poll again when it fails.
  var streamOpen = false;

  function showStreamState() {
    // <span data-stream-state data-text-live="…" data-text-down="…"> (templates/_stream_state.html):
    // "● 实时" only while the stream is open, "连接中断，正在重连…" from the moment it drops.
    document.querySelectorAll("[data-stream-state]").forEach(function (el) {
      el.dataset.live = streamOpen ? "1" : "";
      el.dataset.down = streamOpen ? "" : "1";
      el.textContent = streamOpen ? el.dataset.textLive : (el.dataset.textDown || el.dataset.textPolling);
    });
  }

  document.addEventListener("htmx:sseOpen", function () { streamOpen = true; showStreamState(); });
  document.addEventListener("htmx:sseError", function () { streamOpen = false; showStreamState(); });
  // The network gone: the stream is as good as down, whatever it has not noticed yet. And every
  // second the badge is checked against the streams themselves (htmx keeps each EventSource in
  // its element's internal data), so it never says "● 实时" over a stream that is not open.
  window.addEventListener("offline", function () { streamOpen = false; showStreamState(); });
  setInterval(function () {
    var streams = document.querySelectorAll("[sse-connect]");
    if (!streams.length) return;
    var open = navigator.onLine && Array.prototype.some.call(streams, function (el) {
      var data = el["htmx-internal-data"];
      return data && data.sseEventSource && data.sseEventSource.readyState === 1;
    });
    if (open !== streamOpen) { streamOpen = open; showStreamState(); }
  }, 1000);

  var lastPoll = new WeakMap();
  setInterval(function () {
    var now = Date.now();
    document.querySelectorAll("[data-poll-offline]").forEach(function (el) {
      var every = parseInt(el.dataset.pollOffline, 10) || 3000;
      if (!lastPoll.has(el)) { lastPoll.set(el, now); return; }
      if (now - lastPoll.get(el) < every) return;
      lastPoll.set(el, now);
      if (!streamOpen && window.htmx) window.htmx.trigger(el, "fs:poll");
    });
  }, 250);

  // data-hold-while-editing="<selector>": this element's requests wait while someone types or
  // chooses inside that part of the page (a refresh would swap their input away), and while a
  // save from inside it is on its way (its answer brings the row, "已保存" and the new version;
  // a refresh nudged by that same save would swap the confirmation away).
  document.addEventListener("htmx:beforeRequest", function (e) {
    var el = e.detail.elt;
    var area = el && el.dataset && el.dataset.holdWhileEditing;
    if (area && document.querySelector(area + " :focus:not(button), " + area + " .htmx-request")) {
      e.preventDefault();
    }
  });

  // data-remove-closest="<selector>": after this form's request succeeds, remove the
  // enclosing element (a vacancy added to the running order leaves the candidates list).
  document.addEventListener("htmx:afterRequest", function (e) {
    var el = e.detail.elt;
    var selector = el && el.dataset && el.dataset.removeClosest;
    if (selector && e.detail.successful) {
      var gone = el.closest(selector);
      if (gone) gone.remove();
    }
  });

  // --- The live viewer page ------------------------------------------------------------
  // A viewer typing name and phone into the first-time form keeps it when the host moves on:
  // the new card waits until the form is done (and "已登记 ✓" has shown for two seconds).
  var pendingCard = null, cardSeq = 0;
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    if (e.target.classList.contains("live-card") && e.target.querySelector(".first-form")) {
      e.preventDefault();
      pendingCard = e.detail.data;
    }
  });
  document.addEventListener("htmx:sseMessage", function (e) {
    if (e.target.classList && e.target.classList.contains("live-card")) cardSeq++;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var card = document.querySelector(".live-card");
    if (!pendingCard || !card || card.querySelector(".first-form")) return;
    var html = pendingCard, seq = cardSeq;
    pendingCard = null;
    setTimeout(function () {
      var now = document.querySelector(".live-card");
      if (now && seq === cardSeq) window.htmx.swap(now, html, {swapStyle: "outerHTML"});
    }, 2000);
  });

  // --- Elder mode: "读给我听" --------------------------------------------------------------
  // <button data-speak="…">: read the vacancy aloud in Mandarin. The buttons show (CSS:
  // html.elder.can-speak) only once the browser lists a zh-CN voice; voices load late.
  var synth = window.speechSynthesis;
  // An English page (fairsite/i18n.py) is read by an English voice; Chinese, Simplified or
  // Traditional, by a Mandarin one.
  var voicePattern = /^en\b/i.test(document.documentElement.lang) ? /^en([-_]|$)/i
    : /^(zh|cmn)[-_](hans[-_])?cn\b/i;
  function mandarinVoice() {
    var voices = synth ? synth.getVoices() : [];
    for (var i = 0; i < voices.length; i++) {
      if (voicePattern.test(voices[i].lang)) return voices[i];
    }
    return null;
  }
  function markVoice() {
    document.documentElement.classList.toggle("can-speak", !!mandarinVoice());
  }
  if (synth && window.SpeechSynthesisUtterance) {
    markVoice();
    if (synth.addEventListener) synth.addEventListener("voiceschanged", markVoice);
    document.addEventListener("click", function (e) {
      var button = e.target.closest && e.target.closest("[data-speak]");
      var voice = button && mandarinVoice();
      if (!voice) return;
      synth.cancel();
      var words = new SpeechSynthesisUtterance(button.dataset.speak);
      words.voice = voice;
      words.lang = voice.lang;
      words.rate = 0.9;
      synth.speak(words);
    });
  }
})();
