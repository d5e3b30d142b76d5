// The page: ask, watch the verified answer stream in, open each citation's quote inside
// its report. Talks only to this server's own API (/v1/ask, /v1/chat/completions,
// /v1/documents); no library, no build step. Text from the server is always inserted as
// text nodes, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY = "rag-api-key"; // sessionStorage: forgotten when the tab closes
const MAX_RETRIES = 8;

const state = {
  messages: [], // the conversation so far, as the chat endpoint takes it
  docs: new Map(), // document name -> record
  writable: false,
  busy: false,
};

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---- HTTP ------------------------------------------------------------------------

function authHeaders(extra) {
  const headers = Object.assign({}, extra || {});
  const key = sessionStorage.getItem(KEY);
  if (key) headers.Authorization = "Bearer " + key;
  return headers;
}

async function messageOf(res) {
  try {
    const body = await res.json();
    return (body.error && body.error.message) || res.statusText;
  } catch (_) {
    return res.statusText || "HTTP " + res.status;
  }
}

function status(text) {
  $("status").textContent = text;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// fetch with the API key; asks for a key on 401 and waits out a 503 (Retry-After)
async function api(path, options) {
  options = options || {};
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, Object.assign({}, options, { headers: authHeaders(options.headers) }));
    if (res.status === 401 && attempt < MAX_RETRIES) {
      await askForKey(await messageOf(res));
      continue;
    }
    if (res.status === 503 && attempt < MAX_RETRIES) {
      const wait = Math.max(1, parseInt(res.headers.get("Retry-After") || "5", 10) || 5);
      const why = await messageOf(res);
      for (let left = wait; left > 0; left--) {
        status(`Server busy (${why}), retrying in ${left} s…`);
        await sleep(1000);
      }
      status("");
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, await messageOf(res));
    return res;
  }
}

function askForKey(reason) {
  const dialog = $("key-dialog");
  $("key-reason").textContent =
    (sessionStorage.getItem(KEY) ? "The key was refused (" + reason + "). " : "") +
    "This server needs an API key. It is kept for this browser tab only.";
  $("key-input").value = "";
  return new Promise((resolve) => {
    const form = $("key-form");
    const done = (event) => {
      event.preventDefault();
      const key = $("key-input").value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY, key);
      form.removeEventListener("submit", done);
      dialog.close();
      resolve();
    };
    form.addEventListener("submit", done);
    if (!dialog.open) dialog.showModal();
    $("key-input").focus();
  });
}

// server-sent events of a streamed response, one parsed JSON object at a time
async function* events(res) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
}

// ---- the conversation ------------------------------------------------------------

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function addTurn(question) {
  const li = el("li", "turn");
  li.append(el("p", "q", question));
  const answer = el("p", "a");
  answer.setAttribute("aria-busy", "true");
  li.append(answer);
  $("turns").append(li);
  li.scrollIntoView({ block: "end" });
  return { li, answer, citations: [] };
}

// the answer text with each [n] marker as a button that opens its quote
function renderAnswer(turn, text) {
  turn.answer.replaceChildren();
  const parts = text.split(/(\[\d+\])/);
  for (const part of parts) {
    const m = /^\[(\d+)\]$/.exec(part);
    if (!m) {
      if (part) turn.answer.append(document.createTextNode(part));
      continue;
    }
    const n = Number(m[1]);
    const button = el("button", "cite", part);
    button.type = "button";
    button.dataset.n = String(n);
    button.setAttribute("aria-label", `Show source ${n}`);
    button.addEventListener("click", () => {
      const c = turn.citations.find((x) => x.n === n);
      if (c) openSource(c);
    });
    turn.answer.append(button);
  }
}

function finishTurn(turn, final) {
  turn.answer.removeAttribute("aria-busy");
  turn.citations = final.citations || [];
  if (final.refused) {
    turn.li.classList.add("refused");
    turn.answer.textContent = final.answer || "The reports don't cover this.";
    const passages = (final.passages || []).slice(0, 3);
    if (passages.length) {
      const wrap = el("div", "closest");
      wrap.append(el("p", "", "The closest passages, to look at yourself:"));
      const list = el("ol");
      for (const p of passages) {
        const item = el("li");
        const open = el("button", "", `${p.source} — ${p.section}`);
        open.type = "button";
        open.addEventListener("click", () =>
          openSource({ source: p.source, section: p.section, start: p.start, end: p.end, page: null, quote: p.text }),
        );
        item.append(open);
        list.append(item);
      }
      wrap.append(list);
      turn.li.append(wrap);
    }
    return;
  }
  renderAnswer(turn, final.answer);
  const sources = [...new Set(turn.citations.map((c) => c.source))];
  if (sources.length) turn.li.append(el("p", "meta", "Sources: " + sources.join(", ")));
}

async function ask(question) {
  const turn = addTurn(question);
  const followUp = state.messages.length > 0;
  let text = "";
  let final = null;
  try {
    const res = followUp
      ? await api("/v1/chat/completions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            messages: [...state.messages, { role: "user", content: question }],
            stream: true,
          }),
        })
      : await api("/v1/ask", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ question, stream: true }),
        });
    for await (const event of events(res)) {
      if (event.error) throw new ApiError(0, event.error.message);
      if (followUp) {
        const delta = event.choices && event.choices[0] && event.choices[0].delta;
        if (delta && delta.content) {
          text += delta.content;
          renderAnswer(turn, text);
        }
        if (event.citations) final = Object.assign({}, event, { answer: text });
      } else if (event.object === "answer.delta") {
        text += event.delta;
        renderAnswer(turn, text);
      } else if (event.object === "answer") {
        final = event;
      }
    }
    if (!final) throw new ApiError(0, "the answer stream ended early");
    finishTurn(turn, final);
    state.messages.push({ role: "user", content: question }, { role: "assistant", content: final.answer });
  } catch (err) {
    turn.answer.removeAttribute("aria-busy");
    turn.li.append(el("p", "error", "Error: " + err.message));
  }
}

// ---- sources ---------------------------------------------------------------------

async function loadDocuments() {
  const res = await api("/v1/documents");
  const body = await res.json();
  state.writable = Boolean(body.writable);
  state.docs = new Map(body.data.map((d) => [d.name, d]));
  const list = $("docs");
  list.replaceChildren();
  for (const d of body.data) {
    const item = el("li");
    const label = el("span");
    label.append(document.createTextNode(d.name + " "));
    label.append(el("span", "kind", d.type + (d.pages ? `, ${d.pages} pages` : "")));
    item.append(label);
    if (state.writable) {
      const del = el("button", "", "Delete");
      del.type = "button";
      del.setAttribute("aria-label", "Delete " + d.name);
      del.addEventListener("click", () => removeDocument(d));
      item.append(del);
    }
    list.append(item);
  }
  $("docs-summary").textContent = body.data.length
    ? `${body.data.length} reports indexed.`
    : "No documents are indexed yet.";
  $("upload-form").hidden = !state.writable;
}

async function openSource(c) {
  const panel = $("source");
  try {
    let doc = state.docs.get(c.source);
    if (!doc) {
      await loadDocuments();
      doc = state.docs.get(c.source);
    }
    if (!doc) throw new ApiError(404, `${c.source} is no longer indexed`);
    const from = Math.max(0, c.start - 400);
    const to = Math.min(doc.chars || c.end + 400, c.end + 400);
    const res = await api(`/v1/documents/${encodeURIComponent(doc.id)}/text?start=${from}&end=${to}`);
    const body = await res.json();
    const a = c.start - body.start;
    const b = c.end - body.start;
    const mark = el("mark", "", body.text.slice(a, b));
    $("source-text").replaceChildren(
      document.createTextNode((from > 0 ? "…" : "") + body.text.slice(0, a)),
      mark,
      document.createTextNode(body.text.slice(b) + (to < body.length ? "…" : "")),
    );
    const page = c.page || body.page;
    $("source-where").textContent = `${c.source} — ${c.section}` + (page ? ` — page ${page}` : "");
    panel.hidden = false;
    panel.focus();
    mark.scrollIntoView({ block: "center" });
  } catch (err) {
    status("Could not open the source: " + err.message);
  }
}

async function upload(event) {
  event.preventDefault();
  const input = $("upload-file");
  if (!input.files.length) return;
  const file = input.files[0];
  const form = new FormData();
  form.append("file", file, file.name);
  status(`Uploading and indexing ${file.name}…`);
  try {
    const res = await api("/v1/documents", { method: "POST", body: form });
    const doc = await res.json();
    status(`Added ${doc.name} (${doc.chunks} passages). You can ask about it now.`);
    input.value = "";
    await loadDocuments();
  } catch (err) {
    status(`Upload failed: ${err.message}`);
  }
}

async function removeDocument(doc) {
  status(`Removing ${doc.name}…`);
  try {
    await api(`/v1/documents/${encodeURIComponent(doc.id)}`, { method: "DELETE" });
    status(`Removed ${doc.name}.`);
    await loadDocuments();
  } catch (err) {
    status(`Could not remove ${doc.name}: ${err.message}`);
  }
}

// ---- wiring ----------------------------------------------------------------------

function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const dark = theme === "dark";
  $("theme").setAttribute("aria-pressed", String(dark));
  $("theme").textContent = dark ? "Light theme" : "Dark theme";
}

function start() {
  const saved = localStorage.getItem("rag-theme");
  const prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  setTheme(saved || (prefersDark ? "dark" : "light"));
  $("theme").addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    localStorage.setItem("rag-theme", next);
    setTheme(next);
  });

  $("ask-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question || state.busy) return;
    state.busy = true;
    $("ask-button").disabled = true;
    $("question").value = "";
    await ask(question);
    state.busy = false;
    $("ask-button").disabled = false;
    $("question").focus();
  });
  $("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("new-conversation").addEventListener("click", () => {
    state.messages = [];
    $("turns").replaceChildren();
    $("source").hidden = true;
    status("New conversation.");
    $("question").focus();
  });
  $("source-close").addEventListener("click", () => {
    $("source").hidden = true;
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("source").hidden) $("source").hidden = true;
  });
  $("upload-form").addEventListener("submit", upload);
  loadDocuments().catch((err) => status("Could not list the documents: " + err.message));
}

document.addEventListener("DOMContentLoaded", start);
