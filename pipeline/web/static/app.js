// dossier-review: light JavaScript over server-rendered pages. Every form also works without it.
"use strict";

(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function api(method, url, body) {
    const res = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (_) { /* empty body */ }
    if (!res.ok) {
      const detail = data && data.detail;
      const msg = typeof detail === "string" ? detail : "La requête a échoué (" + res.status + "). Rechargez la page.";
      throw new Error(msg);
    }
    return data;
  }

  // --- upload: refuse an oversized file before sending it ---------------------------------------
  function initUpload() {
    const form = document.getElementById("upload-form");
    if (!form) return;
    const input = form.querySelector('input[type="file"]');
    const box = document.getElementById("size-error");
    const max = Number(input.dataset.maxBytes || 0);
    const check = () => {
      const f = input.files && input.files[0];
      const tooBig = f && max && f.size > max;
      box.textContent = tooBig
        ? "Le fichier « " + f.name + " » pèse " + (f.size / 1e6).toFixed(1) + " Mo, au-delà de la limite de " +
          Math.round(max / 1e6) + " Mo. Compressez les images ou retirez les annexes volumineuses."
        : "";
      box.classList.toggle("hidden", !tooBig);
      return !tooBig;
    };
    input.addEventListener("change", check);
    form.addEventListener("submit", (ev) => {
      if (!check()) { ev.preventDefault(); return; }
      const btn = form.querySelector('button[type="submit"]');
      btn.disabled = true;
      btn.textContent = "Envoi en cours…";
    });
  }

  // --- job progress -----------------------------------------------------------------------------
  function initJob() {
    const box = document.getElementById("job");
    if (!box || box.dataset.status === "failed") return;
    const id = box.dataset.jobId;
    const bar = document.getElementById("job-bar");
    const step = document.getElementById("job-step");
    const err = document.getElementById("job-error");
    const poll = async () => {
      let job;
      try {
        job = await api("GET", "/api/v1/jobs/" + encodeURIComponent(id));
      } catch (e) {
        setTimeout(poll, 2000);
        return;
      }
      bar.style.width = job.percent + "%";
      bar.parentElement.setAttribute("aria-valuenow", String(job.percent));
      step.innerHTML = "";
      const strong = document.createElement("strong");
      strong.textContent = job.percent + " %";
      step.append(strong, " — " + job.step);
      if (job.status === "done" && job.url) { window.location.assign(job.url); return; }
      if (job.status === "failed") {
        err.textContent = job.error || "L’analyse a échoué.";
        err.classList.remove("hidden");
        bar.parentElement.classList.add("hidden");
        step.classList.add("hidden");
        document.getElementById("job-hint").textContent = "Module " + job.module + ".";
        return;
      }
      setTimeout(poll, 700);
    };
    setTimeout(poll, 300);
  }

  // --- highlighting spans of the dossier text ---------------------------------------------------
  function unwrapMarks(root) {
    root.querySelectorAll("mark.ev, mark.manip").forEach((m) => {
      const parent = m.parentNode;
      while (m.firstChild) parent.insertBefore(m.firstChild, m);
      parent.removeChild(m);
      parent.normalize();
    });
  }

  // Wrap characters [from, to) of the element's text in <mark class=cls>; returns the marks made.
  function wrapRange(el, from, to, cls) {
    const made = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
    let offset = 0;
    for (const node of nodes) {
      const len = node.nodeValue.length;
      const a = Math.max(from, offset), b = Math.min(to, offset + len);
      if (a < b) {
        const range = document.createRange();
        range.setStart(node, a - offset);
        range.setEnd(node, b - offset);
        const mark = document.createElement("mark");
        mark.className = cls;
        range.surroundContents(mark);
        made.push(mark);
      }
      offset += len;
    }
    return made;
  }

  // Mark [start, end) of the dossier text (offsets of Dossier.text) across the blocks it spans.
  function markSpan(doc, start, end, cls) {
    const marks = [];
    doc.querySelectorAll(".blk").forEach((blk) => {
      const s = Number(blk.dataset.start), e = Number(blk.dataset.end);
      if (e <= start || s >= end) return;
      marks.push(...wrapRange(blk, Math.max(start, s) - s, Math.min(end, e) - s, cls));
    });
    return marks;
  }

  // A quote without offsets: find it verbatim (whitespace-insensitive) in one block.
  function locateQuote(doc, quote) {
    const wanted = quote.replace(/\s+/g, " ").trim();
    if (!wanted) return null;
    for (const blk of doc.querySelectorAll(".blk")) {
      const text = blk.textContent;
      const i = text.replace(/\s+/g, " ").indexOf(wanted);
      if (i >= 0 && text.replace(/\s+/g, " ") === text) {
        const s = Number(blk.dataset.start);
        return [s + i, s + i + wanted.length];
      }
    }
    return null;
  }

  // Scroll only the pane (never the page): "center" the element, or bring its "top" in view.
  function scrollWithin(container, el, align) {
    const c = container.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    let delta;
    if (align === "center") delta = r.top - c.top - (c.height - r.height) / 2;
    else if (r.top < c.top || r.top > c.bottom - 60) delta = r.top - c.top - 8;
    else return;
    if (container.scrollHeight <= container.clientHeight) { el.scrollIntoView({ block: "nearest" }); return; }
    container.scrollBy({ top: delta, behavior: "smooth" });
  }

  // --- the review workspace ---------------------------------------------------------------------
  function initReview() {
    const root = document.getElementById("review");
    if (!root) return;
    const runId = root.dataset.runId;
    const locked = root.dataset.locked === "true";
    const doc = document.getElementById("doctext");
    const pane = document.getElementById("criteria");
    const cards = Array.from(document.querySelectorAll(".crit"));
    const status = document.getElementById("status-line");
    const minLevel = Number(root.dataset.minLevel), maxLevel = Number(root.dataset.maxLevel);
    let active = null;
    let statusTimer = null;
    const narrow = window.matchMedia("(max-width: 900px)");  // one pane at a time (see app.css)
    const backLabel = document.querySelector("#back-to-criterion .back-crit");

    // A dossier table wider than the pane scrolls sideways by itself, and takes keyboard focus to do so.
    const focusWideTables = () => {
      doc.querySelectorAll(".table-scroll").forEach((w) => {
        if (w.scrollWidth > w.clientWidth + 1) w.tabIndex = 0;
        else w.removeAttribute("tabindex");
      });
    };
    focusWideTables();
    window.addEventListener("resize", focusWideTables);

    // Small screens: show the criteria or the text; the text pane offers a way back to the criterion.
    const showPane = (name) => {
      root.classList.toggle("show-text", name === "doctext");
      root.querySelectorAll(".pane-switch button").forEach((b) => {
        b.setAttribute("aria-pressed", String(b.dataset.pane === name));
      });
      focusWideTables();
    };
    const showMark = (mark) => {
      if (!mark) return;
      if (narrow.matches) {
        showPane("doctext");
        mark.scrollIntoView({ block: "center" });
      } else {
        scrollWithin(doc, mark, "center");
      }
    };

    const say = (msg, isError) => {
      status.textContent = msg;
      status.classList.toggle("error", !!isError);
      clearTimeout(statusTimer);
      if (!isError) statusTimer = setTimeout(() => { status.textContent = ""; }, 4000);
    };

    const highlight = (card) => {
      unwrapMarks(doc);
      let first = null;
      card.querySelectorAll("button.quote").forEach((btn, i) => {
        let start = btn.dataset.start === "" ? NaN : Number(btn.dataset.start);
        let end = btn.dataset.end === "" ? NaN : Number(btn.dataset.end);
        if (Number.isNaN(start) || Number.isNaN(end)) {
          const found = locateQuote(doc, btn.dataset.quote || "");
          if (found) [start, end] = found;
        }
        if (Number.isNaN(start) || Number.isNaN(end)) {
          btn.classList.add("unlocated");
          btn.title = "Passage non localisé dans le texte affiché";
          return;
        }
        const marks = markSpan(doc, start, end, "ev");
        marks.forEach((m) => { m.dataset.ev = String(i); });
        if (!first && marks.length) first = marks[0];
      });
      return first;
    };

    const scrollToMark = (mark) => {
      if (!mark) return;
      doc.querySelectorAll("mark.current").forEach((m) => m.classList.remove("current"));
      mark.classList.add("current");
      if (!narrow.matches) scrollWithin(doc, mark, "center");
    };

    // Make `card` the active criterion: highlight its evidence; bring its top into view when it changes.
    const select = (card, opts) => {
      if (!card) return;
      const changed = active !== card;
      if (changed) {
        if (active) active.classList.remove("active");
        active = card;
        card.classList.add("active");
        history.replaceState(null, "", "#crit-" + card.dataset.crit);
        if (backLabel) backLabel.textContent = card.dataset.crit;
        if (pageMode) drawPage(card);
        const first = highlight(card);
        scrollToMark(first);
        if (!first) say("Aucune preuve localisée dans le texte pour " + card.dataset.crit + ".");
        scrollWithin(pane, card, "top");
      }
      if (!opts || opts.focus !== false) card.focus({ preventScroll: true });
    };

    const move = (delta) => {
      const i = active ? cards.indexOf(active) : -1;
      const next = cards[Math.min(cards.length - 1, Math.max(0, i + delta))];
      select(next);
    };

    // Triage order: doubtful criteria first (lowest confidence first), then the confident ones.
    const triage = cards.slice().sort((a, b) => {
      const da = a.dataset.doubtful === "true" ? 0 : 1, db = b.dataset.doubtful === "true" ? 0 : 1;
      return da - db || Number(a.dataset.confidence) - Number(b.dataset.confidence);
    });
    const nextUndecided = () => {
      const start = active ? triage.indexOf(active) : -1;
      for (let k = 1; k <= triage.length; k++) {
        const c = triage[(start + k) % triage.length];
        if (!c.classList.contains("decided")) return c;
      }
      return null;
    };

    // The page image (a PDF, or a DOCX's rendition by LibreOffice) with the active criterion's quotes
    // boxed and numbered. Each quote is located by the server: on its noted page first, then on any.
    const pageview = document.getElementById("pageview");
    const textview = document.getElementById("textview");
    const pageImg = document.getElementById("page-img");
    const pageWrap = document.getElementById("page-wrap");
    const caption = document.getElementById("page-caption");
    let pageMode = false, shownPage = 0, pageToken = 0;
    const located = new Map();  // quote text -> Promise of {page, boxes}
    const locate = (btn) => {
      const q = btn.dataset.quote || "";
      if (!located.has(q)) {
        const hint = btn.dataset.page ? "&page=" + encodeURIComponent(btn.dataset.page) : "";
        located.set(q, api("GET", "/runs/" + encodeURIComponent(runId) + "/pages/locate?q=" + encodeURIComponent(q) + hint)
          .catch(() => ({ page: null, boxes: [] })));
      }
      return located.get(q);
    };
    if (pageImg) {
      pageImg.addEventListener("error", () => {
        caption.textContent = "Image de la page indisponible" + (pageview.dataset.format === "docx" ? " (la conversion du document par LibreOffice a échoué)" : "") + " : le texte reste affiché dans l’onglet « Texte ».";
      });
    }
    const drawPage = async (card, currentIndex) => {
      if (!pageview || !card) return;
      const token = ++pageToken;
      if (pageview.dataset.format === "docx" && !shownPage) caption.textContent = "Préparation des pages (conversion du document par LibreOffice)…";
      const quotes = Array.from(card.querySelectorAll("button.quote"));
      const found = await Promise.all(quotes.map(locate));
      if (token !== pageToken) return;
      const wanted = currentIndex !== undefined && found[currentIndex] && found[currentIndex].page;
      const firstFound = found.find((f) => f.page);
      const page = wanted || (firstFound ? firstFound.page : shownPage || 1);
      pageWrap.querySelectorAll(".pagebox, .pagebox-num").forEach((b) => b.remove());
      if (shownPage !== page) {
        pageImg.src = "/runs/" + encodeURIComponent(runId) + "/pages/" + page + ".png";
        shownPage = page;
      }
      const on = found.map((f, i) => [f, i]).filter(([f]) => f.page === page);
      const nums = on.map(([, i]) => i + 1).join(", ");
      pageImg.alt = "Page " + page + " du dossier" + (on.length ? ", passage(s) " + nums + " de " + card.dataset.crit + " encadré(s)" : "");
      caption.textContent = "Page " + page + (on.length ? " — " + card.dataset.crit + " : passage(s) " + nums : quotes.length ? " — passages de " + card.dataset.crit + " introuvables sur les pages" : "");
      for (const [f, i] of on) {
        f.boxes.forEach((b, k) => {
          const box = document.createElement("div");
          box.className = "pagebox" + (i === currentIndex ? " current" : "");
          Object.assign(box.style, { left: 100 * b.x + "%", top: 100 * b.y + "%", width: 100 * b.w + "%", height: 100 * b.h + "%" });
          pageWrap.append(box);
          if (k === 0) {
            const num = document.createElement("span");
            num.className = "pagebox-num";
            num.textContent = String(i + 1);
            Object.assign(num.style, { left: 100 * b.x + "%", top: 100 * b.y + "%" });
            pageWrap.append(num);
            if (i === currentIndex || currentIndex === undefined && on[0][1] === i) box.scrollIntoView({ block: "center" });
          }
        });
      }
    };
    const setView = (view) => {
      if (!pageview) return;
      pageMode = view === "page";
      pageview.classList.toggle("hidden", !pageMode);
      textview.classList.toggle("hidden", pageMode);
      document.querySelectorAll(".view-switch button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.view === view)));
      if (pageMode) drawPage(active);
    };
    document.querySelectorAll(".view-switch button").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));

    const decidedCount = () => {
      const n = cards.filter((c) => c.classList.contains("decided")).length;
      const el = document.getElementById("decided-count");
      if (el) el.textContent = String(n);
      return n;
    };

    const decide = async (card, level) => {
      if (locked) { say("La grille est validée : elle ne peut plus être modifiée.", true); return; }
      const form = card.querySelector("form.decide-form");
      const comment = form.querySelector("textarea[name=comment]").value;
      try {
        const d = await api("POST", "/api/v1/runs/" + encodeURIComponent(runId) + "/decisions",
          { criterion_id: card.dataset.crit, level, comment });
        card.classList.add("decided");
        form.querySelectorAll("input[name=level]").forEach((r) => { r.checked = Number(r.value) === d.level; });
        const badge = card.querySelector(".decision-badge");
        badge.classList.remove("hidden");
        badge.querySelector(".decided-level").textContent = String(d.level);
        card.querySelector(".decided-by").textContent = "Décidé par " + d.assessor + " à l’instant";
        decidedCount();
        say(card.dataset.crit + " : niveau " + d.level + " (" + d.label + ") enregistré" + (d.agreed ? ", conforme à la suggestion." : "."));
        return true;
      } catch (e) {
        say(e.message, true);
        return false;
      }
    };

    cards.forEach((card) => {
      card.addEventListener("click", (ev) => {
        if (ev.target.closest("button, input, textarea, label, a")) return;
        select(card);
      });
      card.addEventListener("focusin", () => select(card, { focus: false }));
      const form = card.querySelector("form.decide-form");
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const accept = ev.submitter && ev.submitter.name === "accept";
        const checked = form.querySelector("input[name=level]:checked");
        const level = accept ? Number(card.dataset.suggested) : checked ? Number(checked.value) : NaN;
        if (Number.isNaN(level)) { say("Choisissez un niveau avant d’enregistrer.", true); return; }
        await decide(card, level);
      });
      form.querySelectorAll("input[name=level]").forEach((r) => {
        r.addEventListener("change", () => decide(card, Number(r.value)));
      });
      card.querySelectorAll("button.quote").forEach((btn, i) => {
        btn.addEventListener("click", () => {
          select(card, { focus: false });
          card.querySelectorAll("button.quote.current").forEach((b) => b.classList.remove("current"));
          btn.classList.add("current");
          const mark = doc.querySelector('mark.ev[data-ev="' + i + '"]');
          scrollToMark(mark);
          if (narrow.matches) showMark(mark);
          if (pageMode) drawPage(card, i);
        });
      });
    });

    document.querySelectorAll("button.show-span").forEach((btn) => {
      btn.addEventListener("click", () => {
        unwrapMarks(doc);
        if (active) { active.classList.remove("active"); active = null; }
        const marks = markSpan(doc, Number(btn.dataset.start), Number(btn.dataset.end), "manip");
        showMark(marks[0]);
      });
    });

    // The comment bank: insert a saved comment, keep the current one, turn the listed gaps into a comment.
    const appendComment = (card, text) => {
      const ta = card.querySelector("textarea[name=comment]");
      if (!ta || ta.disabled || !text) return;
      ta.value = ta.value.trim() ? ta.value.trimEnd() + "\n" + text : text;
      ta.focus();
    };
    const gapsText = (card) => {
      const items = Array.from(card.querySelectorAll("ul.missing li")).map((li) => li.textContent.trim().replace(/\.$/, ""));
      return items.length ? "À compléter : " + items.join(" ; ") + "." : "";
    };
    cards.forEach((card) => {
      const bank = card.querySelector(".bank");
      if (!bank) return;
      const sel = bank.querySelector(".bank-select");
      sel.addEventListener("change", () => {
        const opt = sel.selectedOptions[0];
        if (opt && opt.value) appendComment(card, opt.dataset.text);
        sel.value = "";
      });
      bank.querySelector(".bank-save").addEventListener("click", async () => {
        const text = card.querySelector("textarea[name=comment]").value.trim();
        if (!text) { say("Écrivez d’abord le commentaire à garder.", true); return; }
        try {
          const saved = await api("POST", "/api/v1/comment-bank", { criterion_id: card.dataset.crit, text });
          if (!Array.from(sel.options).some((o) => o.value === saved.id)) {
            const opt = document.createElement("option");
            opt.value = saved.id;
            opt.dataset.text = saved.text;
            opt.textContent = saved.text.length > 100 ? saved.text.slice(0, 100) + "…" : saved.text;
            sel.append(opt);
            sel.options[0].textContent = "— insérer —";
          }
          say("Commentaire type enregistré pour " + card.dataset.crit + ".");
        } catch (e) { say(e.message, true); }
      });
      const gapsBtn = bank.querySelector(".gaps-insert");
      if (gapsBtn) gapsBtn.addEventListener("click", () => appendComment(card, gapsText(card)));
    });

    document.querySelectorAll("a[data-crit-link]").forEach((a) => {
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        select(document.getElementById("crit-" + a.dataset.critLink));
      });
    });
    root.querySelectorAll(".pane-switch button").forEach((b) => {
      b.addEventListener("click", () => showPane(b.dataset.pane));
    });
    const back = document.getElementById("back-to-criterion");
    if (back) back.addEventListener("click", () => {
      showPane("criteria");
      if (active) { active.scrollIntoView({ block: "start" }); active.focus({ preventScroll: true }); }
    });

    // The manipulation alert can be closed (remembered for this dossier) and opened again.
    const warning = document.getElementById("manipulation-warning");
    const reopen = document.getElementById("reopen-warning");
    if (warning && reopen) {
      const key = "dossier-review:warning-closed:" + runId;
      const setClosed = (closed) => {
        warning.classList.toggle("hidden", closed);
        reopen.classList.toggle("hidden", !closed);
        try { if (closed) localStorage.setItem(key, "1"); else localStorage.removeItem(key); } catch (_) { /* private mode */ }
      };
      let closed = false;
      try { closed = localStorage.getItem(key) === "1"; } catch (_) { /* private mode */ }
      setClosed(closed);
      document.getElementById("close-warning").addEventListener("click", () => { setClosed(true); reopen.focus(); });
      reopen.addEventListener("click", () => { setClosed(false); warning.focus(); });
      warning.tabIndex = -1;
    }

    const finalizeForm = document.getElementById("finalize-form");
    const finalize = async () => {
      if (!finalizeForm) return;
      const left = cards.length - decidedCount();
      const question = left
        ? left + " critère(s) sans décision : la validation sera refusée. Valider quand même ?"
        : "Valider et verrouiller la grille ? Elle ne pourra plus être modifiée.";
      if (!window.confirm(question)) return;
      const missingBox = document.getElementById("finalize-missing");
      try {
        await api("POST", "/api/v1/runs/" + encodeURIComponent(runId) + "/finalize");
        window.location.reload();
      } catch (e) {
        const undecided = cards.filter((c) => !c.classList.contains("decided"));
        if (!missingBox || !undecided.length) { say(e.message, true); return; }
        missingBox.textContent = "Validation refusée : " + undecided.length + " critère(s) sans décision : ";
        undecided.forEach((c, i) => {
          const a = document.createElement("a");
          a.href = "#crit-" + c.dataset.crit;
          a.textContent = c.dataset.crit;
          a.addEventListener("click", (ev) => { ev.preventDefault(); showPane("criteria"); select(c); });
          missingBox.append(i ? ", " : "", a);
        });
        missingBox.append(".");
        missingBox.classList.remove("hidden");
      }
    };
    if (finalizeForm) finalizeForm.addEventListener("submit", (ev) => { ev.preventDefault(); finalize(); });

    document.addEventListener("keydown", (ev) => {
      const t = ev.target;
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && t instanceof HTMLTextAreaElement && t.form) {
        ev.preventDefault();  // Ctrl+Entrée: save the comment with the chosen level
        t.form.requestSubmit(t.form.querySelector("button.save"));
        return;
      }
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const typing = t instanceof HTMLElement && (t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
        (t.tagName === "INPUT" && t.type !== "radio"));
      if (typing) {
        if (ev.key === "Escape") { t.blur(); if (active) active.focus({ preventScroll: true }); }
        return;
      }
      const key = ev.key;
      if (key === "j" || key === "ArrowDown" && t === document.body) { ev.preventDefault(); move(1); }
      else if (key === "k" || key === "ArrowUp" && t === document.body) { ev.preventDefault(); move(-1); }
      else if (key === "n") {
        ev.preventDefault();
        const next = nextUndecided();
        if (next) { showPane("criteria"); select(next); } else say("Tous les critères sont décidés : vous pouvez valider la grille (f).");
      }
      else if (key === "a" && active) {
        ev.preventDefault();
        if (active.dataset.suggested === "") { say("Pas de suggestion pour " + active.dataset.crit + " : choisissez un niveau.", true); return; }
        decide(active, Number(active.dataset.suggested)).then((ok) => { if (ok) move(1); });
      } else if (/^[0-9]$/.test(key) && active) {
        const level = Number(key);
        if (level < minLevel || level > maxLevel) return;
        ev.preventDefault();
        decide(active, level);
      } else if (key === "g" && active) {
        ev.preventDefault();
        const text = gapsText(active);
        if (text) appendComment(active, text); else say("Aucun manque relevé pour " + active.dataset.crit + ".");
      } else if (key === "c" && active) {
        ev.preventDefault();
        const ta = active.querySelector("textarea[name=comment]");
        if (ta && !ta.disabled) ta.focus();
      } else if (key === "f") {
        ev.preventDefault();
        finalize();
      }
    });

    const fromHash = window.location.hash.startsWith("#crit-") && document.getElementById(window.location.hash.slice(1));
    const firstToRead = triage.find((c) => !c.classList.contains("decided"));  // the most doubtful undecided
    select(fromHash || firstToRead || cards[0], { focus: true });
  }

  document.addEventListener("DOMContentLoaded", () => {
    initUpload();
    initJob();
    initReview();
  });
})();
