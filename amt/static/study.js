// munit-eval local study: one question at a time, answers posted to the
// server, which keeps all state (a reload resumes where the participant was).
// A choice is only a selection until Next (or Enter) submits it, so a slip
// of the arrow key can be undone, as on MTurk's form before its Submit.
// Before the first answer a practice question (a catch question of the
// batch: one side is visibly scrambled) is shown with feedback and never
// recorded.
"use strict";
(function () {
  const body = document.body;
  const pid = body.dataset.participant;
  const $ = (id) => document.getElementById(id);
  let current = null; // the question shown: a real one, or the practice
  let practice = null; // the practice question while it is shown
  let practiced = false; // the practice question was done (this page)
  let selected = null;
  let busy = false;
  let last = null; // the last state from the server

  function fail(msg) {
    $("error").textContent = msg;
    $("error").hidden = false;
  }

  function select(side) {
    if (!current || busy) return;
    selected = side;
    $("pick-left").setAttribute("aria-pressed", String(side === "left"));
    $("pick-right").setAttribute("aria-pressed", String(side === "right"));
    $("next").disabled = false;
    body.dataset.selected = side;
    if (practice) {
      const right = side === practice.correct;
      $("feedback").textContent = right
        ? "Right: the other output is broken into shuffled blocks, which no real image looks like. Press Next to start; this practice question is not counted."
        : "Look again: this output is broken into shuffled blocks, which no real image looks like. Choose the other one.";
      $("feedback").hidden = false;
      $("next").disabled = !right;
    }
  }

  function showImages(q) {
    $("img-input").src = q.input;
    $("img-left").src = q.left;
    $("img-right").src = q.right;
  }

  function clearChoice() {
    selected = null;
    delete body.dataset.selected;
    $("pick-left").setAttribute("aria-pressed", "false");
    $("pick-right").setAttribute("aria-pressed", "false");
    $("next").disabled = true;
    $("feedback").hidden = true;
  }

  function show(st) {
    last = st;
    clearChoice();
    $("progress").textContent = st.answered + " of " + st.total + " answered";
    $("bar").max = Math.max(st.total, 1);
    $("bar").value = st.answered;
    if (st.done) {
      current = practice = null;
      $("question").hidden = true;
      $("done").hidden = false;
      body.dataset.done = "1";
    } else if (st.practice && !practiced) {
      practice = current = st.practice;
      showImages(practice);
      $("title").textContent = "Practice: which output looks more accurate?";
      $("question").hidden = false;
      body.dataset.practice = "1";
    } else {
      practice = null;
      delete body.dataset.practice;
      const q = st.question;
      current = q;
      showImages(q);
      $("title").textContent = "Which output looks more accurate?";
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

  async function submit() {
    if (!current || !selected || busy || $("next").disabled) return;
    if (practice) {
      practiced = true;
      show(last);
      return;
    }
    busy = true;
    try {
      const r = await fetch("/api/answer", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ participant: pid, hit: current.hit, field: current.field, answer: selected }),
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
      select("left");
    } else if (e.key === "ArrowRight") {
      e.preventDefault();
      select("right");
    } else if (e.key === "Enter") {
      e.preventDefault();
      submit();
    }
  });
  // Enlarge small images with nearest-neighbour pixels (study.css), never blurred.
  for (const id of ["img-input", "img-left", "img-right"]) {
    const img = $(id);
    img.addEventListener("load", () => {
      img.classList.toggle("pixelated", img.naturalWidth > 0 && img.naturalWidth < img.clientWidth);
    });
  }
  $("pick-left").addEventListener("click", () => select("left"));
  $("pick-right").addEventListener("click", () => select("right"));
  $("next").addEventListener("click", submit);
  load();
})();
