// slipway console: every write is a REST API call with the session's CSRF token; logs stream from the API;
// GET /api/v1/events tells the page when to refresh its data-live parts. No framework, no build step.
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // api calls the REST API as the signed-in session and returns the decoded answer, or throws an Error whose
  // message is the API's own (the JSON error shape: {"error":{"code","message","field"}}).
  async function api(method, url, body) {
    const init = { method, headers: { "X-CSRF-Token": csrf(), Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined && method !== "GET" && method !== "DELETE") {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(url, init);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) {
      const msg = data && data.error && data.error.message ? data.error.message : res.status + " " + res.statusText;
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return data || {};
  }

  // fill replaces {name} in template with the fields of values (URL-escaped).
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(values[k] ?? ""));
  }

  function showAlert(scope, message) {
    const el = scope.querySelector(".alert[role=alert]") || scope.closest("section,div,li")?.querySelector(".alert[role=alert]");
    if (!el) { window.alert(message); return; }
    el.textContent = message;
    el.hidden = !message;
  }

  // formBody turns a form's named fields into the JSON body: checkboxes and data-bool fields are booleans,
  // number inputs numbers, data-list fields comma-separated lists; data-omit-empty fields are left out when empty.
  function formBody(form, submitter) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") continue;
      if (el.type === "radio" && !el.checked) continue;
      let v;
      if (el.type === "checkbox") v = el.checked;
      else if ("bool" in el.dataset) v = el.value === "true";
      else if ("list" in el.dataset) v = el.value.split(",").map((s) => s.trim()).filter(Boolean);
      else if (el.type === "number") v = el.value === "" ? undefined : Number(el.value);
      else v = el.value;
      if (v === undefined || ("omitEmpty" in el.dataset && v === "")) continue;
      body[el.name] = v;
    }
    if (submitter && submitter.name) body[submitter.name] = submitter.value === "true" ? true : submitter.value === "false" ? false : submitter.value;
    return body;
  }

  async function after(then, data, form) {
    // A deploy or promotion into an environment with release rules answers with its promotion request: one that
    // waits (for approvals, a freeze window, its re-scan) opens its page; one deploying already reloads as usual.
    if (then === "promotion" && data && "requester" in data && !["deploying", "succeeded"].includes(data.status)) {
      window.location.assign(fill("/projects/{project}/promotions/{id}", data) + "?requested=1");
      return;
    }
    if (!then || then === "reload" || then === "promotion") { if (form) form.reset(); return refresh(); }
    if (then === "webhook" || then === "token") return reveal(then === "webhook" ? data.webhook : data, then, form);
    window.location.assign(fill(then, data));
  }

  // reveal shows what an answer holds only once (a webhook's secret, a new token) in the page's panel for it.
  function reveal(what, kind, form) {
    const panel = document.getElementById(kind === "webhook" ? "webhook" : "new-token");
    if (!panel) return;
    if (!what || (kind === "webhook" && what.registered)) { panel.hidden = true; return refresh(); }
    for (const f of panel.querySelectorAll("[data-field]")) f.textContent = what[f.dataset.field] || "";
    panel.hidden = false;
    if (kind === "token" && form) form.reset();
    refresh();
  }

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
    ev.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const body = formBody(form, ev.submitter);
    const method = form.dataset.method || "POST";
    const url = fill(form.dataset.api, body);
    for (const m of form.dataset.api.matchAll(/\{(\w+)\}/g)) delete body[m[1]];
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    showAlert(form, "");
    try {
      const data = await api(method, url, body);
      await after(form.dataset.then, data, form);
    } catch (err) {
      showAlert(form, err.message);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });

  // Toggles (checkboxes with data-api) PATCH {name: checked} at once; a refusal puts them back.
  document.addEventListener("change", async (ev) => {
    const el = ev.target;
    if (el.name === "secret" && el.form) {
      const value = el.form.querySelector('input[name="value"]');
      if (value && value.dataset.revealUnlessSecret !== undefined) value.type = el.checked ? "password" : "text";
    }
    if (!(el instanceof HTMLInputElement) || el.type !== "checkbox" || !el.dataset.api || el.form) return;
    const scope = el.closest(".toggles") || el.parentElement;
    showAlert(scope, "");
    el.disabled = true;
    try {
      const data = await api(el.dataset.method || "PATCH", el.dataset.api, { [el.name]: el.checked });
      if (el.dataset.then) await after(el.dataset.then, data);
    } catch (err) {
      el.checked = !el.checked;
      showAlert(scope, err.message);
    } finally {
      el.disabled = false;
    }
  });

  // Fragments (data-fragment) are parts of a page read on their own, such as the Build Area's commits.
  async function loadFragment(el) {
    try {
      const res = await fetch(el.dataset.fragment, { credentials: "same-origin" });
      const html = await res.text();
      const picked = el.querySelector('input[type=radio]:checked')?.value;
      el.innerHTML = html;
      if (picked) {
        const again = Array.from(el.querySelectorAll('input[type=radio]')).find((r) => r.value === picked);
        if (again) again.checked = true;
      }
    } catch (err) {
      el.innerHTML = "";
      const p = document.createElement("p");
      p.className = "alert";
      p.setAttribute("role", "alert");
      p.textContent = "Could not read this part of the page: " + err.message;
      el.append(p);
    }
  }

  // dirty says a part of the page holds a field someone has changed and not yet sent.
  function dirty(el) {
    if (el.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) return true;
    for (const f of el.querySelectorAll("input, textarea, select")) {
      if (f.type === "hidden" || f.type === "radio") continue;
      if (f.tagName === "SELECT") {
        const preset = Math.max(0, Array.from(f.options).findIndex((o) => o.defaultSelected)); // none marked: the first
        if (f.selectedIndex !== preset) return true;
      } else if (f.type === "checkbox" ? f.checked !== f.defaultChecked : f.value !== f.defaultValue) return true;
    }
    return false;
  }

  // refresh reads the page again and swaps in each data-live part (by id) and each live fragment, leaving
  // everything else (what is being typed, the log, open <details>) as it is.
  let refreshing = null, again = false;
  async function refresh() {
    if (refreshing) { again = true; return refreshing; }
    refreshing = (async () => {
      try {
        const res = await fetch(window.location.href, { credentials: "same-origin", headers: { "X-Slipway-Refresh": "1" } });
        if (res.redirected && new URL(res.url).pathname === "/sign-in") { window.location.assign(res.url); return; }
        const doc = new DOMParser().parseFromString(await res.text(), "text/html");
        for (const el of document.querySelectorAll("[data-live][id]")) {
          const fresh = doc.getElementById(el.id);
          if (!fresh || dirty(el)) continue; // what someone is typing is never swapped away; the next refresh catches up
          const open = Array.from(el.querySelectorAll("details[open]")).map((d) => d.querySelector("summary")?.textContent);
          el.replaceWith(fresh);
          for (const d of fresh.querySelectorAll("details")) if (open.includes(d.querySelector("summary")?.textContent)) d.open = true;
        }
        await Promise.all(Array.from(document.querySelectorAll("[data-live-fragment][data-fragment]")).map(loadFragment));
        const log = document.getElementById("log");
        const freshLog = doc.getElementById("log");
        if (log && freshLog && log.dataset.follow === "false" && freshLog.dataset.follow === "true") followLog(log);
      } catch (_) {
        // The next event, or the next reload, catches up.
      }
    })();
    await refreshing;
    refreshing = null;
    if (again) { again = false; return refresh(); }
  }

  // Live: one event stream for the page, scoped to its project and component.
  function follow() {
    const q = new URLSearchParams();
    if (document.body.dataset.project) q.set("project", document.body.dataset.project);
    if (document.body.dataset.component) q.set("component", document.body.dataset.component);
    const status = document.getElementById("live-status");
    const es = new EventSource("/api/v1/events?" + q.toString());
    let timer = null;
    const changed = () => { clearTimeout(timer); timer = setTimeout(refresh, 100); };
    for (const kind of ["build", "deployment", "component", "config", "environment", "promotion", "message"]) es.addEventListener(kind, changed);
    es.onopen = () => { if (status) { status.textContent = "live"; status.dataset.state = "live"; } };
    es.onerror = () => { if (status) { status.textContent = "reconnecting…"; status.dataset.state = "off"; } };
  }

  // ANSI SGR colours of build output (BuildKit's and the build steps' own) become spans; every other escape is
  // dropped. The text is set as text, never as HTML.
  const ansiColours = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];
  function appendAnsi(parent, line) {
    const div = document.createElement("div");
    div.className = "line";
    let cls = [];
    const re = /\x1b\[([0-9;]*)([A-Za-z])/g;
    let last = 0, m;
    const push = (text) => {
      if (!text) return;
      const span = document.createElement("span");
      if (cls.length) span.className = cls.join(" ");
      span.textContent = text;
      div.append(span);
    };
    while ((m = re.exec(line)) !== null) {
      push(line.slice(last, m.index));
      last = re.lastIndex;
      if (m[2] !== "m") continue;
      for (const p of (m[1] || "0").split(";").map(Number)) {
        if (p === 0) cls = [];
        else if (p === 1) cls.push("ansi-bold");
        else if (p >= 30 && p <= 37) cls = cls.filter((c) => !c.startsWith("ansi-fg")).concat("ansi-fg-" + ansiColours[p - 30]);
        else if (p >= 90 && p <= 97) cls = cls.filter((c) => !c.startsWith("ansi-fg")).concat("ansi-fg-" + ansiColours[p - 90]);
        else if (p === 39) cls = cls.filter((c) => !c.startsWith("ansi-fg"));
      }
    }
    push(line.slice(last).replace(/\x1b[^a-zA-Z]*[a-zA-Z]?/g, ""));
    parent.append(div);
  }

  // followLog streams a build's log into el: every line once, resuming after the last one read when the
  // connection drops, until the build has ended.
  async function followLog(el) {
    if (el.dataset.streaming === "1") return;
    el.dataset.streaming = "1";
    el.dataset.follow = "true";
    let seen = Number(el.dataset.seen || 0);
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        const res = await fetch(el.dataset.log + "?follow=true&after=" + seen, { credentials: "same-origin" });
        if (!res.ok) throw new Error(res.status);
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          const lines = buf.split("\n");
          buf = lines.pop();
          const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          for (const l of lines) { appendAnsi(el, l); seen++; }
          el.dataset.seen = String(seen);
          if (atBottom) el.scrollTop = el.scrollHeight;
        }
        if (buf) { appendAnsi(el, buf); seen++; el.dataset.seen = String(seen); }
        break; // the server ends the stream when the build has ended and every line is sent
      } catch (_) {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    el.dataset.streaming = "";
    el.dataset.follow = "false";
    refresh();
  }

  async function readLog(el) {
    try {
      const res = await fetch(el.dataset.log, { credentials: "same-origin" });
      const text = await res.text();
      const lines = text.split("\n");
      if (lines.length && lines[lines.length - 1] === "") lines.pop();
      for (const l of lines) appendAnsi(el, l);
      el.dataset.seen = String(lines.length);
    } catch (err) {
      el.textContent = "Could not read the log: " + err.message;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const el of document.querySelectorAll("[data-fragment]")) loadFragment(el);
    const log = document.getElementById("log");
    if (log) { if (log.dataset.follow === "true") followLog(log); else readLog(log); }
    if (document.querySelector('meta[name="csrf-token"]')?.content) follow();
  });
})();
