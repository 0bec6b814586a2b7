/* Open12315 progressive enhancement. Every page works without this file; it only
   (1) stops a form from being sent twice, (2) hides fields that do not apply,
   (3) fills a department code from province → city → county selects. */
(function () {
  "use strict";

  /* (1) One submission per form: a second click while the first request runs is ignored. */
  function guardSubmissions() {
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.submitting === "1") {
          event.preventDefault();
          return;
        }
        form.dataset.submitting = "1";
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.setAttribute("aria-disabled", "true");
        });
      });
    });
  }

  /* (2) <div data-show-when="name=value"> is shown only while that radio/checkbox is chosen. */
  function conditionalFields() {
    var blocks = document.querySelectorAll("[data-show-when]");
    if (!blocks.length) return;
    function update() {
      blocks.forEach(function (block) {
        var parts = block.dataset.showWhen.split("=");
        var chosen = document.querySelector(
          'input[name="' + parts[0] + '"][value="' + parts[1] + '"]'
        );
        block.hidden = !(chosen && chosen.checked);
      });
    }
    document.addEventListener("change", update);
    update();
  }

  /* (3) Division picker: selects fed by GET /api/v1/departments/{code}/children. */
  function divisionPickers() {
    document.querySelectorAll("[data-division-picker]").forEach(function (picker) {
      var urlTemplate = picker.dataset.childrenUrl;
      var target = document.getElementById(picker.dataset.target);
      var other = picker.dataset.otherRadio ? document.getElementById(picker.dataset.otherRadio) : null;
      var selects = picker.querySelectorAll("select");
      var status = picker.querySelector("[data-picker-status]");
      picker.hidden = false;

      function load(level, parentCode) {
        var select = selects[level];
        for (var i = level; i < selects.length; i++) {
          selects[i].length = 1;
          selects[i].disabled = true;
        }
        return fetch(urlTemplate.replace("__code__", parentCode), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then(function (response) {
            if (!response.ok) throw new Error(String(response.status));
            return response.json();
          })
          .then(function (items) {
            var offices = items.filter(function (item) { return item.level !== "station"; });
            offices.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.code;
              option.textContent = item.name;
              select.appendChild(option);
            });
            select.disabled = offices.length === 0;
            return offices.length;
          })
          .catch(function () {
            if (status) status.hidden = false;
            return 0;
          });
      }

      function choose(code) {
        target.value = code;
        if (other) other.checked = true;
        target.dispatchEvent(new Event("change", { bubbles: true }));
      }

      selects.forEach(function (select, level) {
        select.addEventListener("change", function () {
          var code = select.value;
          if (!code) return;
          if (level + 1 >= selects.length) {
            choose(code);
            return;
          }
          load(level + 1, code).then(function (count) {
            if (count === 0) choose(code);
          });
        });
      });
      load(0, picker.dataset.root);
    });
  }

  /* A page restored from the back/forward cache may be sent again. */
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.removeAttribute("aria-disabled");
      });
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    guardSubmissions();
    conditionalFields();
    divisionPickers();
  });
})();
