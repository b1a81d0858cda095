/* fairsite: no failure goes unseen, and a signing survives a network that is not there.

   - Every button shows "正在提交…" from the tap until the answer (htmx requests and plain forms).
   - A failed htmx request says so where the person was looking, keeps what they typed, and
     offers the next step: an error fragment of the server (X-Fs-Error, see fairsite/web.py) goes
     into a message box beside the form; a network error or a timeout gets the same box with
     "再试一次". A <select> in a form whose POST failed goes back to the value that was saved.
   - A signing (form[data-offline-sign]) that cannot reach the server is kept on the phone
     (localStorage) with its idempotency key, said so, and sent when the network returns and on
     the next visit; the server's answer then replaces it (the real "已登记 ✓").
   - "退出" in one tab: the site's other staff tabs say so and go to the login page.
   The words come from templates/_texts.html (translated); the page works without any of this. */
(function () {
  "use strict";

  function text(name) {
    var el = document.getElementById("fs-texts");
    return (el && el.dataset[name]) || "";
  }

  // --- "正在提交…" -----------------------------------------------------------------------
  function submitButtons(el) {
    if (!el) return [];
    if (el.matches && el.matches("button, input[type=submit]")) return [el];
    return el.querySelectorAll ? Array.prototype.slice.call(
      el.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]")) : [];
  }

  function setBusy(el, on) {
    submitButtons(el).forEach(function (button) {
      if (on) {
        if (button.dataset.fsLabel !== undefined) return;
        button.dataset.fsLabel = button.tagName === "INPUT" ? button.value : button.innerHTML;
        if (button.tagName === "INPUT") button.value = text("busy"); else button.textContent = text("busy");
        button.classList.add("is-busy");
        button.setAttribute("aria-busy", "true");
      } else if (button.dataset.fsLabel !== undefined) {
        if (button.tagName === "INPUT") button.value = button.dataset.fsLabel;
        else button.innerHTML = button.dataset.fsLabel;
        delete button.dataset.fsLabel;
        button.classList.remove("is-busy");
        button.removeAttribute("aria-busy");
        button.disabled = false;
      }
    });
  }

  function verb(detail) {
    return ((detail.requestConfig && detail.requestConfig.verb) || "get").toLowerCase();
  }

  // A request the person asked for (a tap, a change), not a refresh the page makes by itself.
  function byPerson(detail) {
    var cfg = detail.requestConfig || {};
    var type = cfg.triggeringEvent && cfg.triggeringEvent.type;
    return verb(detail) !== "get" || ["submit", "click", "change", "keyup", "search", "input"].indexOf(type) >= 0;
  }

  function formOf(elt) {
    return elt && elt.closest ? (elt.closest("form") || elt) : elt;
  }

  document.addEventListener("htmx:beforeRequest", function (e) {
    if (e.defaultPrevented || verb(e.detail) === "get") return;
    setBusy(formOf(e.detail.elt), true);
  });
  ["htmx:afterRequest", "htmx:sendError", "htmx:timeout", "htmx:sendAbort"].forEach(function (name) {
    document.addEventListener(name, function (e) { setBusy(formOf(e.detail.elt), false); });
  });

  // Plain forms (no htmx on them): the button says it is working until the next page comes.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || (form.method || "get").toLowerCase() !== "post") return;
    var buttons = e.submitter ? [e.submitter] : submitButtons(form);
    buttons.forEach(function (b) { setBusy(b, true); });
    // Disabled after the form's data is taken, so the pressed button's name still goes.
    setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
    // A download (an export) answers without leaving the page: the button comes back.
    setTimeout(function () { buttons.forEach(function (b) { setBusy(b, false); }); }, 8000);
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) setBusy(document.body, false);  // back to a page kept in memory
  });

  // --- message boxes ---------------------------------------------------------------------
  var sources = new WeakMap();

  function pageBox() {
    var box = document.getElementById("fs-page-msg");
    if (!box) {
      box = document.createElement("div");
      box.id = "fs-page-msg";
      box.className = "fs-msg fs-page-msg";
      box.setAttribute("role", "alert");
      var main = document.getElementById("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    return box;
  }

  // The box beside what the person tapped: inside its form (after the fields they typed into).
  function boxFor(elt, person) {
    if (!person) return pageBox();
    var host = formOf(elt);
    if (!host || !host.isConnected) return pageBox();
    var box = host.querySelector(":scope > .fs-msg");
    if (!box) {
      box = document.createElement("div");
      box.className = "fs-msg";
      box.setAttribute("role", "alert");
      if (host.tagName === "FORM") host.appendChild(box);
      else host.insertAdjacentElement("afterend", box);
    }
    sources.set(box, elt);
    return box;
  }

  function clearBox(elt) {
    var host = formOf(elt);
    var box = host && host.querySelector && host.querySelector(":scope > .fs-msg");
    if (box) box.remove();
    var page = document.getElementById("fs-page-msg");
    if (page && page.dataset.from === "background") page.remove();
  }

  function say(box, message, retry) {
    box.textContent = "";
    var p = document.createElement("p");
    p.textContent = message;
    box.appendChild(p);
    if (retry) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "small";
      b.setAttribute("data-fs-retry", "");
      b.textContent = text("retry");
      box.appendChild(b);
    }
  }

  // A choice that was not saved must not look chosen: back to the value the page was drawn with.
  function revertChoices(elt) {
    var form = elt && elt.closest && elt.closest("form");
    if (!form) return false;
    var changed = false;
    form.querySelectorAll("select").forEach(function (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        if (option.selected !== option.defaultSelected) changed = true;
        option.selected = option.defaultSelected;
      });
    });
    return changed;
  }

  document.addEventListener("click", function (e) {
    var retry = e.target.closest && e.target.closest("[data-fs-retry]");
    if (retry) {
      e.preventDefault();
      var box = retry.closest(".fs-msg");
      var src = (box && sources.get(box)) || (box && box.closest("form"));
      if (box) box.remove();
      if (src && src.isConnected) {
        var form = formOf(src);
        if (form.tagName === "FORM" && form.requestSubmit) form.requestSubmit();
        else window.htmx.trigger(src, "click");
      } else {
        window.location.reload();
      }
      return;
    }
    if (e.target.closest && e.target.closest("[data-fs-reload]")) {
      e.preventDefault();
      window.location.reload();
    }
  });

  // Error answers arrive swapped (responseHandling, templates/base.html): a general error goes
  // into the box, not over the form; a fragment made for its target (429, a form with its
  // errors) replaces the target as usual.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    if (!d.isError) {
      clearBox(d.elt);
      return;
    }
    var person = byPerson(d);
    var reverted = verb(d) !== "get" && revertChoices(d.elt);
    if (d.xhr && d.xhr.getResponseHeader("X-Fs-Error")) {
      var box = boxFor(d.elt, person);
      if (!person) box.dataset.from = "background";
      d.target = box;
      d.swapOverride = "innerHTML";
      if (reverted) {
        // Say that the old value is back, below the server's words.
        setTimeout(function () {
          var p = document.createElement("p");
          p.textContent = text("notSaved");
          box.appendChild(p);
        }, 0);
      }
    }
  });

  function unreachable(e, kind) {
    var d = e.detail;
    var form = d.elt && d.elt.closest && d.elt.closest("form[data-offline-sign]");
    if (form) {
      keep(form);
      return;
    }
    var person = byPerson(d);
    var reverted = verb(d) !== "get" && revertChoices(d.elt);
    var box = boxFor(d.elt, person);
    if (!person) box.dataset.from = "background";
    say(box, text(kind) + (reverted ? " " + text("notSaved") : ""), person);
  }

  document.addEventListener("htmx:sendError", function (e) { unreachable(e, "network"); });
  document.addEventListener("htmx:timeout", function (e) { unreachable(e, "timeout"); });

  // --- signing offline -------------------------------------------------------------------
  var QUEUE = "fs-sign-queue";
  var KEY = /^[A-Za-z0-9_-]{16,64}$/;

  function queue() {
    try { return JSON.parse(window.localStorage.getItem(QUEUE) || "[]") || []; } catch (err) { return []; }
  }

  function store(entries) {
    try {
      if (entries.length) window.localStorage.setItem(QUEUE, JSON.stringify(entries));
      else window.localStorage.removeItem(QUEUE);
    } catch (err) { /* private mode: nothing kept */ }
  }

  function randomKey() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // A button in HTML every viewer shares (the live card) comes without a key: one is made at
  // the first tap, and kept for every retry of that tap.
  function ensureKey(form) {
    var input = form.querySelector("input[name=sign_key]");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "sign_key";
      form.appendChild(input);
    }
    if (!KEY.test(input.value)) input.value = randomKey();
    return input.value;
  }

  document.addEventListener("submit", function (e) {
    if (e.target.matches && e.target.matches("form[data-offline-sign]")) ensureKey(e.target);
  }, true);

  function slotOf(form) {
    return form.closest(".intent-slot");
  }

  function showKept(form) {
    var box = boxFor(form, true);
    box.classList.add("fs-kept");
    box.setAttribute("role", "status");
    say(box, text("queued"), false);
  }

  function keep(form) {
    var key = ensureKey(form);
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token") fields.push([name, String(value)]);
    });
    var slot = slotOf(form);
    var entries = queue().filter(function (entry) { return entry.key !== key; });
    entries.push({
      key: key, action: form.getAttribute("action"), fields: fields, slot: slot ? slot.id : "",
      page: window.location.pathname + window.location.search, at: Date.now(), tries: 0,
    });
    store(entries);
    showKept(form);
  }

  // A token of this session for the request: the page the signing was made on, fetched now
  // (the one the phone kept may be from a session that has ended).
  function freshToken(page) {
    return fetch(page, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
      return response.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var meta = doc.querySelector("meta[name=csrf-token]");
      if (!meta) throw new Error("no token");
      return meta.content;
    });
  }

  function forget(key) {
    store(queue().filter(function (entry) { return entry.key !== key; }));
  }

  function send(entry) {
    return freshToken(entry.page).then(function (token) {
      var body = new URLSearchParams();
      entry.fields.forEach(function (field) { body.append(field[0], field[1]); });
      body.append("csrf_token", token);
      return fetch(entry.action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"HX-Request": "true", "X-CSRFToken": token, "HX-Current-URL": window.location.href},
      });
    }).then(function (response) {
      return response.text().then(function (html) {
        if (response.status >= 500 && entry.tries < 5) {
          var entries = queue();
          entries.forEach(function (e) { if (e.key === entry.key) e.tries = (e.tries || 0) + 1; });
          store(entries);
          return;
        }
        // The server answered: that is the real outcome, whatever it says.
        forget(entry.key);
        var slot = entry.slot && document.getElementById(entry.slot);
        if (slot && html && window.htmx) window.htmx.swap(slot, html, {swapStyle: "outerHTML"});
        // The fair asks for a text code first: the answer is that form, shown even when the
        // page the signing was kept on is not this one (never dropped unseen).
        else if (html && window.htmx && response.headers.get("X-Fs-Needs-Code")) {
          var box = pageBox();
          box.classList.remove("fs-kept");
          box.innerHTML = "";
          window.htmx.swap(box, html, {swapStyle: "innerHTML"});
        }
      });
    });
  }

  var sending = false;

  function sendKept() {
    var entries = queue();
    if (!entries.length || sending) return;
    sending = true;
    entries.forEach(function (entry) {
      var slot = entry.slot && document.getElementById(entry.slot);
      var box = slot && slot.querySelector(".fs-kept p");
      if (box) box.textContent = text("sending");
    });
    entries.reduce(function (chain, entry) {
      return chain.then(function () { return send(entry); });
    }, Promise.resolve()).catch(function () {
      // Still no network: each stays kept, and says so again.
      showAllKept();
    }).then(function () { sending = false; });
  }

  function showAllKept() {
    queue().forEach(function (entry) {
      var slot = entry.slot && document.getElementById(entry.slot);
      var form = slot && slot.querySelector("form[data-offline-sign]");
      if (!form) return;
      var key = form.querySelector("input[name=sign_key]");
      if (key) key.value = entry.key;  // a tap on it again is the same signing
      showKept(form);
    });
  }

  function start() {
    showAllKept();
    if (!navigator.onLine && document.querySelector(".intent-slot")) {
      var box = pageBox();
      box.classList.add("fs-kept");
      box.setAttribute("role", "status");
      say(box, text("offlinePage"), false);
    }
    sendKept();
    if (document.readyState === "complete") registerWorker();
    else window.addEventListener("load", registerWorker);
  }

  // After the page's load event, so that the worker's script and the files it keeps (which it
  // takes from the browser's cache: the page has just loaded them) never compete with what the
  // page needs first. Registered from this page's first load, which the worker did not see: it
  // is asked to keep this page too.
  function registerWorker() {
    var sw = document.querySelector("meta[name=fs-sw]");
    if (!sw || !("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(sw.content, {scope: "/"}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      if (registration.active && navigator.onLine) registration.active.postMessage({keep: window.location.href});
    }).catch(function () { /* plain http on another host: no service worker */ });
  }

  window.addEventListener("online", function () {
    var page = document.getElementById("fs-page-msg");
    if (page && page.classList.contains("fs-kept")) page.remove();
    sendKept();
  });
  setInterval(sendKept, 10000);

  // --- logged out in another tab -----------------------------------------------------------
  document.addEventListener("submit", function (e) {
    if (e.target.matches && e.target.matches("form[data-logout]")) {
      try { window.localStorage.setItem("fs-logout", String(Date.now())); } catch (err) { /* none */ }
    }
  }, true);
  window.addEventListener("storage", function (e) {
    var form = document.querySelector("form[data-logout]");
    if (e.key !== "fs-logout" || !form) return;
    var box = pageBox();
    say(box, text("loggedOut"), false);
    var next = window.location.pathname + window.location.search;
    setTimeout(function () {
      window.location.href = form.dataset.loginUrl + "?next=" + encodeURIComponent(next);
    }, 1500);
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
