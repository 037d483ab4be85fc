/* The notice-board screen: rotate the slides, refresh the data in place.
 *
 * The page arrives fully rendered by the server; this script only shows one
 * slide at a time and, every minute, fetches the same data as JSON from the
 * body's data-url and writes it into the elements marked data-bind,
 * data-list and data-field (text only, never HTML). If the server cannot be
 * reached, the last data stays on screen and a small note says so.
 * Plain ES5 plus fetch: TV browsers are often old.
 */
(function () {
  "use strict";

  var body = document.body;
  var url = body.getAttribute("data-url");
  var rotateMs = 1000 * (parseInt(body.getAttribute("data-rotate-seconds"), 10) || 15);
  var refreshMs = 1000 * (parseInt(body.getAttribute("data-refresh-seconds"), 10) || 60);

  document.documentElement.className += " js";

  function each(selector, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  function lookup(data, path) {
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? value : value[key];
    }, data);
  }

  function text(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  // --- slides ---------------------------------------------------------------

  var current = 0;

  function slides() {
    return Array.prototype.filter.call(document.querySelectorAll(".slide"), function (slide) {
      return !slide.hidden;
    });
  }

  function show(index) {
    var visible = slides();
    if (!visible.length) {
      return;
    }
    current = index % visible.length;
    each(".slide", function (slide) {
      var on = slide === visible[current];
      if (slide.classList.contains("active") !== on) {
        slide.classList.toggle("active", on);
      }
    });
  }

  function next() {
    var visible = slides();
    var active = document.querySelector(".slide.active");
    var at = visible.indexOf(active);
    show(at < 0 ? 0 : at + 1);
  }

  // --- data -----------------------------------------------------------------

  function fill(element, item) {
    each("[data-field]", function (field) {
      var value = text(item[field.getAttribute("data-field")]);
      if (field.textContent !== value) {
        field.textContent = value;
      }
      if (field.hasAttribute("data-hide-empty")) {
        field.hidden = value === "";
      }
    }, element);
  }

  function renderList(list, items) {
    var key = JSON.stringify(items);
    if (list.getAttribute("data-shown") === key) {
      return; // unchanged: leave the DOM alone
    }
    var template = document.getElementById(list.getAttribute("data-template"));
    var fragment = document.createDocumentFragment();
    items.forEach(function (item) {
      var row = template.content.firstElementChild.cloneNode(true);
      fill(row, item);
      fragment.appendChild(row);
    });
    // One synchronous swap: the browser paints the new rows in one go.
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    list.appendChild(fragment);
    list.setAttribute("data-shown", key);
  }

  function apply(data) {
    each("[data-bind]", function (element) {
      var value = lookup(data, element.getAttribute("data-bind"));
      if (element.getAttribute("data-format") === "fixed1" && typeof value === "number") {
        value = value.toFixed(1);
      }
      value = text(value);
      if (element.textContent !== value) {
        element.textContent = value;
      }
    });
    each("[data-list]", function (list) {
      var items = data[list.getAttribute("data-list")] || [];
      var from = parseInt(list.getAttribute("data-from"), 10) || 0;
      var to = parseInt(list.getAttribute("data-to"), 10) || items.length;
      renderList(list, items.slice(from, to));
    });
    each("[data-empty]", function (element) {
      element.hidden = (data[element.getAttribute("data-empty")] || []).length > 0;
    });
    // A slide showing items from..from+n of a list hides when the list ends
    // before it; the first one only if marked data-hide-when-empty.
    each("[data-part-of]", function (slide) {
      var from = parseInt(slide.getAttribute("data-from"), 10) || 0;
      var hides = from > 0 || slide.hasAttribute("data-hide-when-empty");
      slide.hidden = hides && (data[slide.getAttribute("data-part-of")] || []).length <= from;
    });
    if (document.querySelector(".slide.active") === null || document.querySelector(".slide.active").hidden) {
      show(0);
    }
  }

  function offline(on) {
    each(".offline", function (note) {
      note.hidden = !on;
    });
  }

  function refresh() {
    if (!url || !window.fetch) {
      return;
    }
    window
      .fetch(url, { cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        apply(data);
        offline(false);
      })
      .catch(function () {
        offline(true); // keep showing what we have
      });
  }

  show(0);
  // Fade between slides only from the second frame on: the first slide
  // appears at once instead of every slide fading out over it (no flash).
  window.requestAnimationFrame(function () {
    window.requestAnimationFrame(function () {
      document.documentElement.className += " ready";
    });
  });
  window.setInterval(next, rotateMs);
  window.setInterval(refresh, refreshMs);
})();
