// munit-eval local study: one question at a time, answers posted to the
// server, which keeps all state (a reload resumes where the participant was).
"use strict";
(function () {
  const body = document.body;
  const pid = body.dataset.participant;
  const $ = (id) => document.getElementById(id);
  let current = null;
  let busy = false;

  function fail(msg) {
    $("error").textContent = msg;
    $("error").hidden = false;
  }

  function show(st) {
    $("progress").textContent = st.answered + " of " + st.total + " answered";
    $("bar").max = Math.max(st.total, 1);
    $("bar").value = st.answered;
    if (st.done) {
      current = null;
      $("question").hidden = true;
      $("done").hidden = false;
      body.dataset.done = "1";
    } else {
      const q = st.question;
      current = q;
      $("img-input").src = q.input;
      $("img-left").src = q.left;
      $("img-right").src = q.right;
      $("question").hidden = false;
      $("done").hidden = true;
      body.dataset.hit = String(q.hit);
      body.dataset.field = q.field;
    }
    body.dataset.answered = String(st.answered);
  }

  async function load() {
    const r = await fetch("/api/next?participant=" + encodeURIComponent(pid), { cache: "no-store" });
    if (!r.ok) {
      fail("Could not load the next question (" + r.status + ").");
      return;
    }
    show(await r.json());
  }

  async function answer(side) {
    if (!current || busy) return;
    busy = true;
    try {
      const r = await fetch("/api/answer", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ participant: pid, hit: current.hit, field: current.field, answer: side }),
      });
      if (r.status === 409) {
        await load();
      } else if (!r.ok) {
        fail("Your answer was not saved (" + r.status + "). Please reload the page.");
      } else {
        $("error").hidden = true;
        show(await r.json());
      }
    } catch (e) {
      fail("Your answer was not saved (network error). Please reload the page.");
    } finally {
      busy = false;
    }
  }

  document.addEventListener("keydown", (e) => {
    if (e.repeat || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "ArrowLeft") {
      e.preventDefault();
      answer("left");
    } else if (e.key === "ArrowRight") {
      e.preventDefault();
      answer("right");
    }
  });
  // Enlarge small images with nearest-neighbour pixels (study.css), never blurred.
  for (const id of ["img-input", "img-left", "img-right"]) {
    const img = $(id);
    img.addEventListener("load", () => {
      img.classList.toggle("pixelated", img.naturalWidth > 0 && img.naturalWidth < img.clientWidth);
    });
  }
  $("pick-left").addEventListener("click", () => answer("left"));
  $("pick-right").addEventListener("click", () => answer("right"));
  load();
})();
