/* Hall display screen (一屏): rolls through the playlist and refreshes it from the server.
   A network blip never blanks the screen: the last playlist keeps rolling, an "offline"
   marker shows, and the refresh is retried with exponential backoff (5 s doubling to the
   playlist's own refresh interval, with jitter so a hall full of screens does not retry in
   step). Text is set with textContent only, never parsed as HTML. No dependencies. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-playlist-url");
  var stage = document.getElementById("screen-stage");
  var titleEl = document.getElementById("screen-title");
  var clockEl = document.getElementById("screen-clock");
  var offlineEl = document.getElementById("screen-offline");
  var positionEl = document.getElementById("screen-position");
  var playlist = JSON.parse(document.getElementById("screen-playlist").textContent);
  var index = 0;
  var slideTimer = null;
  var failures = 0;
  var MIN_RETRY_MS = 5000;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function render(slide) {
    var article = el("article", "slide");
    article.appendChild(el("p", "slide-kind", slide.kind_label + " · " + slide.region));
    article.appendChild(el("h1", null, slide.title));
    var text = el("p", "slide-text");
    String(slide.text || "").split("\n").forEach(function (line, i) {
      if (i) text.appendChild(document.createElement("br"));
      text.appendChild(document.createTextNode(line));
    });
    article.appendChild(text);
    article.appendChild(el("p", "slide-date", slide.date));
    stage.replaceChildren(article);
    positionEl.textContent = (index + 1) + " / " + playlist.slides.length;
  }

  function show() {
    clearTimeout(slideTimer);
    var slides = playlist.slides || [];
    if (!slides.length) return;
    index = index % slides.length;
    var slide = slides[index];
    render(slide);
    var seconds = slide.seconds || playlist.slide_seconds || 15;
    slideTimer = setTimeout(function () {
      index = (index + 1) % slides.length;
      show();
    }, seconds * 1000);
  }

  function refreshMs() {
    return Math.max(15, playlist.refresh_seconds || 120) * 1000;
  }

  function schedule(ms) {
    setTimeout(refresh, ms);
  }

  function refresh() {
    if (!url || !window.fetch) return;
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = setTimeout(function () { if (controller) controller.abort(); }, 15000);
    fetch(url, { cache: "no-cache", credentials: "omit", signal: controller && controller.signal })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (fresh) {
        clearTimeout(timeout);
        failures = 0;
        offlineEl.hidden = true;
        if (fresh && fresh.version !== playlist.version && fresh.slides) {
          playlist = fresh;
          titleEl.textContent = fresh.title;
          index = 0;
          show();
        }
        schedule(refreshMs());
      })
      .catch(function () {
        clearTimeout(timeout);
        failures += 1;
        offlineEl.hidden = false;
        var backoff = Math.min(refreshMs(), MIN_RETRY_MS * Math.pow(2, failures - 1));
        schedule(backoff * (0.75 + Math.random() * 0.5));
      });
  }

  function tick() {
    var now = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    clockEl.textContent = now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" +
      two(now.getDate()) + " " + two(now.getHours()) + ":" + two(now.getMinutes());
  }

  tick();
  setInterval(tick, 15000);
  show();
  schedule(refreshMs());
})();
