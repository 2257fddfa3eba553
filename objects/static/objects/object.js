/* The object page: fetch the panels after the page, and show the cutouts of a clicked alert
   (from the alert table, or from the light curve's Dash app, which posts a message).

   A panel is an element with data-panel-src: its HTML fragment replaces the element's content
   (data-loaded="true" once it has), and the fragment's scripts then run, once per page (a
   fragment set with innerHTML runs none by itself). A panel that fails shows a Retry button,
   unless the server explains in words (X-Panel-Message: e.g. an alert the object does not have). */
(function () {
  "use strict";
  var objectId = document.getElementById("object-js").dataset.objectId;
  var scriptsRun = {};

  function panelError(el, retryFn, message) {
    el.innerHTML = "";
    var box = document.createElement("div");
    box.className = "error";
    box.textContent = "This panel could not be loaded (" + message + "). ";
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button small";
    retry.textContent = "Retry";
    retry.onclick = retryFn;
    box.appendChild(retry);
    el.appendChild(box);
  }

  function runScripts(el) {
    el.querySelectorAll("script").forEach(function (old) {
      var src = old.getAttribute("src");
      if (src && scriptsRun[src]) { return; }  // a panel loaded again: its script already runs
      if (src) { scriptsRun[src] = true; }
      var script = document.createElement("script");
      Array.prototype.forEach.call(old.attributes, function (a) { script.setAttribute(a.name, a.value); });
      script.text = old.text;
      old.parentNode.replaceChild(script, old);
    });
  }

  function loadPanel(el, url) {
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok && !r.headers.get("X-Panel-Message")) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) {
        el.innerHTML = html;
        runScripts(el);
        el.dataset.loaded = "true";
        el.removeAttribute("aria-busy");
        // Back from a login at /ZTF...#fits: the card is here only now.
        var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
        if (target && el.contains(target)) { target.scrollIntoView(); }
      })
      .catch(function (err) { panelError(el, function () { loadPanel(el, url); }, err.message); });
  }

  function showCutouts(candid, date) {
    document.querySelectorAll("img.cutout").forEach(function (img) {
      // The page's own cutout URL: not the API route, whose throttle a few clicks would spend.
      var url = "/objects/" + encodeURIComponent(objectId) + "/cutout.png?kind=" + img.dataset.kind;
      if (candid) { url += "&candid=" + encodeURIComponent(candid); }
      img.classList.remove("missing");
      img.src = url;
    });
    document.getElementById("cutout-caption").textContent =
      candid ? "alert " + candid + (date ? " · " + String(date).slice(0, 19) : "") : "latest alert";
    document.querySelectorAll("#alerts tr[data-candid]").forEach(function (tr) {
      tr.classList.toggle("selected", tr.dataset.candid === String(candid));
    });
    // The alert's full content: the same panel, for that candid.
    var content = document.getElementById("alert-content");
    var url = content.dataset.panelSrc + (candid ? "?candid=" + encodeURIComponent(candid) : "");
    content.dataset.loaded = "false";
    content.setAttribute("aria-busy", "true");
    loadPanel(content, url);
  }

  // Filter the alert content's rows by column name or value.
  document.addEventListener("input", function (event) {
    if (!event.target.matches(".alert-filter")) { return; }
    var needle = event.target.value.trim().toLowerCase();
    var box = event.target.closest(".alert-content");
    box.querySelectorAll("tr[data-column]").forEach(function (tr) {
      tr.hidden = needle !== "" && tr.textContent.toLowerCase().indexOf(needle) < 0;
    });
    box.querySelectorAll("details.alert-group").forEach(function (group) {
      group.hidden = !group.querySelector("tr[data-column]:not([hidden])");
    });
  });

  // The light curve (an iframe of this site) posts the alert a click picked.
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || !event.data || event.data.type !== "lightcurve-click") { return; }
    showCutouts(event.data.candid, event.data.date);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".show-cutouts");
    if (button) { showCutouts(button.dataset.candid, button.dataset.date); }
    var copy = event.target.closest("button.copy");
    if (copy) {
      var text = document.getElementById(copy.dataset.copy).innerText;
      var done = function () { copy.textContent = "Copied"; setTimeout(function () { copy.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        var area = document.createElement("textarea");
        area.value = text; document.body.appendChild(area); area.select();
        document.execCommand("copy"); document.body.removeChild(area); done();
      }
    }
  });

  document.querySelectorAll("[data-panel-src]").forEach(function (el) { loadPanel(el, el.dataset.panelSrc); });
})();
