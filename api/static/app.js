// The page: ask (within chosen reports if some are ticked), watch the verified answer
// stream in, open each citation's section with its quote marked, say whether an answer
// was right, and come back to past conversations. Talks only to this server's own API
// (/v1/ask, /v1/chat/completions, /v1/documents, /v1/feedback); no library, no build
// step. Text from the server is inserted as text nodes; the one exception is a cited
// section, which the server renders and sanitizes (nh3) and which is parsed into an
// inert <template> before it is shown, under a CSP that runs no inline script.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY = "rag-api-key"; // sessionStorage: forgotten when the tab closes
const MAX_RETRIES = 8;

const state = {
  conversation: null, // the one on screen (conversations.js keeps them)
  docs: new Map(), // document name -> record
  byId: new Map(), // document id -> record
  selected: new Set(), // ids of the documents questions are asked within (none: all)
  writable: false,
  busy: false,
  opener: null, // what opened the source panel: focus goes back there on close
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

function button(text, onClick, label) {
  const b = el("button", "", text);
  b.type = "button";
  if (label) b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function titleOf(source, fallback) {
  const doc = state.docs.get(source);
  return (doc && doc.title) || fallback || source;
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
  for (const part of text.split(/(\[\d+\])/)) {
    const m = /^\[(\d+)\]$/.exec(part);
    if (!m) {
      if (part) turn.answer.append(document.createTextNode(part));
      continue;
    }
    const n = Number(m[1]);
    const cite = button(part, (event) => {
      const c = turn.citations.find((x) => x.n === n);
      if (c) openSource(c, event.currentTarget);
    });
    cite.className = "cite";
    cite.dataset.n = String(n);
    const c = turn.citations.find((x) => x.n === n);
    cite.setAttribute("aria-label", `Show source ${n}` + (c ? `: ${c.title || c.source}` : ""));
    turn.answer.append(cite);
  }
}

// the finished answer: its sources by title, or the closest passages of a refusal
function finishTurn(turn, final, record) {
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
        const where = `${p.title || titleOf(p.source)} — ${p.section}`;
        const quote = { source: p.source, title: p.title, section: p.section, start: p.start, end: p.end };
        item.append(button(where, (event) => openSource(quote, event.currentTarget)));
        list.append(item);
      }
      wrap.append(list);
      turn.li.append(wrap);
    }
  } else {
    renderAnswer(turn, final.answer);
    const seen = new Map();
    for (const c of turn.citations) {
      const name = c.title || titleOf(c.source);
      const pages = seen.get(name) || new Set();
      if (c.page) pages.add(c.page);
      seen.set(name, pages);
    }
    if (seen.size) {
      const parts = [...seen].map(([name, pages]) =>
        pages.size ? `${name} (p. ${[...pages].sort((a, b) => a - b).join(", ")})` : name,
      );
      turn.li.append(el("p", "meta sources", "Sources: " + parts.join("; ")));
    }
  }
  turn.li.append(feedbackControls(record));
}

// "Helpful" / "Wrong" under an answer; "Wrong" asks for an optional note first
function feedbackControls(record) {
  const box = el("div", "feedback");
  const said = el("p", "hint");
  said.setAttribute("role", "status");
  const send = async (rating, note) => {
    try {
      await api("/v1/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          rating,
          note: note || "",
          question: record.question,
          answer: record.answer,
          refused: Boolean(record.refused),
          citations: record.citations || [],
          build_id: record.build_id || "",
          documents: record.documents && record.documents.length ? record.documents : null,
        }),
      });
      record.feedback = rating;
      const owner = Conversations.all().find((c) => c.turns.some((t) => t.question === record.question && t.answer === record.answer));
      if (owner) {
        const turn = owner.turns.find((t) => t.question === record.question && t.answer === record.answer);
        turn.feedback = rating;
        Conversations.save(owner);
      }
      said.tabIndex = -1;
      box.replaceChildren(said);
      said.textContent =
        rating === "wrong" ? "Thank you: recorded for review, to grow the eval set." : "Thank you: recorded.";
      said.focus(); // the buttons are gone: focus stays on the answer's feedback
    } catch (err) {
      said.textContent = "Could not record feedback: " + err.message;
    }
  };
  if (record.feedback) {
    said.textContent = `You marked this answer ${record.feedback}.`;
    box.append(said);
    return box;
  }
  const helpful = button("Helpful", () => send("helpful"), "Mark this answer helpful");
  const wrong = button("Wrong", () => {
    const form = el("form", "note");
    const id = "note-" + Math.random().toString(36).slice(2);
    const label = el("label", "", "What was wrong? (optional)");
    label.htmlFor = id;
    const note = el("textarea");
    note.id = id;
    note.rows = 2;
    note.maxLength = 2000;
    const submit = el("button", "", "Send");
    submit.type = "submit";
    form.append(label, note, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send("wrong", note.value.trim());
    });
    box.replaceChildren(form, said);
    note.focus();
  }, "Mark this answer wrong");
  box.append(el("span", "hint", "Was this right?"), helpful, wrong, said);
  return box;
}

async function ask(question) {
  const conv = state.conversation;
  const turn = addTurn(question);
  const followUp = conv.messages.length > 0;
  const documents = conv.documents.length ? conv.documents : null;
  let text = "";
  let final = null;
  try {
    const res = followUp
      ? await api("/v1/chat/completions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            messages: [...conv.messages, { role: "user", content: question }],
            stream: true,
            documents,
          }),
        })
      : await api("/v1/ask", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ question, stream: true, documents }),
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
    const record = {
      question,
      answer: final.answer,
      refused: final.refused,
      citations: final.citations || [],
      passages: (final.passages || []).slice(0, 3).map((p) => ({
        source: p.source, title: p.title, section: p.section, start: p.start, end: p.end,
      })),
      build_id: final.build_id || "",
      documents: conv.documents.slice(),
    };
    finishTurn(turn, final, record);
    conv.turns.push(record);
    conv.messages.push({ role: "user", content: question }, { role: "assistant", content: final.answer });
    conv.title = conv.title || question;
    Conversations.save(conv); // the one asked in, even if another is on screen now
    renderHistory();
  } catch (err) {
    turn.answer.removeAttribute("aria-busy");
    turn.li.append(el("p", "error", "Error: " + err.message));
  }
}

// ---- conversations kept in this browser ------------------------------------------

function saveConversation() {
  if (state.conversation && state.conversation.turns.length) Conversations.save(state.conversation);
  renderHistory();
}

function showConversation(conv) {
  state.conversation = conv;
  state.selected = new Set(conv.documents.filter((id) => !state.byId.size || state.byId.has(id)));
  conv.documents = [...state.selected];
  $("turns").replaceChildren();
  for (const record of conv.turns) {
    const turn = addTurn(record.question);
    finishTurn(turn, record, record);
  }
  $("source").hidden = true;
  syncSelection();
  renderHistory();
}

function newConversation() {
  saveConversation();
  showConversation(Conversations.create([...state.selected]));
  status("New conversation.");
  $("question").focus();
}

function renderHistory() {
  const list = $("history");
  list.replaceChildren();
  const all = Conversations.all();
  $("history-empty").hidden = all.length > 0;
  for (const conv of all) {
    const item = el("li");
    const current = state.conversation && conv.id === state.conversation.id;
    const when = new Date(conv.updated).toLocaleString();
    const open = button(conv.title || "(untitled)", () => {
      showConversation(Conversations.get(conv.id) || conv);
      status(`Reopened "${conv.title}". A follow-up question continues it.`);
      $("question").focus();
    }, `Open conversation: ${conv.title} (${when})`);
    open.className = "link";
    if (current) open.setAttribute("aria-current", "true");
    const del = button("Delete", () => {
      Conversations.remove(conv.id);
      if (current) showConversation(Conversations.create([...state.selected]));
      renderHistory();
      status(`Deleted "${conv.title}".`);
      $("history-title").focus();
    }, `Delete conversation: ${conv.title}`);
    item.append(open, el("span", "kind", `${conv.turns.length} ${conv.turns.length === 1 ? "question" : "questions"}`), del);
    list.append(item);
  }
}

// ---- documents and the selection -------------------------------------------------

async function loadDocuments() {
  const res = await api("/v1/documents");
  const body = await res.json();
  state.writable = Boolean(body.writable);
  state.docs = new Map(body.data.map((d) => [d.name, d]));
  state.byId = new Map(body.data.map((d) => [d.id, d]));
  state.selected = new Set([...state.selected].filter((id) => state.byId.has(id)));
  if (state.conversation) state.conversation.documents = [...state.selected];
  const list = $("docs");
  list.replaceChildren();
  for (const d of body.data) {
    const item = el("li");
    const box = el("input");
    box.type = "checkbox";
    box.id = "doc-" + d.id;
    box.value = d.id;
    box.checked = state.selected.has(d.id);
    box.addEventListener("change", () => {
      if (box.checked) state.selected.add(d.id);
      else state.selected.delete(d.id);
      selectionChanged();
    });
    const label = el("label");
    label.htmlFor = box.id;
    label.append(el("span", "doc-title", d.title || d.name));
    label.append(el("span", "kind", `${d.name} · ${d.type}` + (d.pages ? `, ${d.pages} pages` : "")));
    item.append(box, label);
    if (state.writable) item.append(button("Delete", () => removeDocument(d), "Delete " + (d.title || d.name)));
    list.append(item);
  }
  $("docs-summary").textContent = body.data.length
    ? `${body.data.length} reports indexed.`
    : "No documents are indexed yet.";
  $("upload-form").hidden = !state.writable;
  syncSelection();
}

function selectionChanged() {
  const conv = state.conversation;
  conv.documents = [...state.selected];
  if (conv.turns.length) saveConversation();
  syncSelection();
}

// the checkboxes and the line above the question box say what a question will search
function syncSelection() {
  for (const box of $("docs").querySelectorAll("input[type=checkbox]")) box.checked = state.selected.has(box.value);
  const chosen = [...state.selected].map((id) => state.byId.get(id)).filter(Boolean);
  $("scope-text").textContent = chosen.length
    ? `Asking within ${chosen.length} selected ${chosen.length === 1 ? "report" : "reports"}: ` +
      chosen.map((d) => d.title || d.name).join("; ")
    : `Asking every report${state.docs.size ? ` (${state.docs.size})` : ""}.`;
  $("scope-clear").hidden = chosen.length === 0;
}

// ---- sources ---------------------------------------------------------------------

async function openSource(c, opener) {
  const panel = $("source");
  try {
    let doc = state.docs.get(c.source);
    if (!doc) {
      await loadDocuments();
      doc = state.docs.get(c.source);
    }
    if (!doc) throw new ApiError(404, `${c.title || c.source} is no longer indexed`);
    const res = await api(`/v1/documents/${encodeURIComponent(doc.id)}/section?start=${c.start}&end=${c.end}`);
    const body = await res.json();
    const template = document.createElement("template");
    template.innerHTML = body.html; // sanitized by the server; a template runs nothing
    $("source-text").replaceChildren(template.content);
    const page = c.page || body.page;
    $("source-title").textContent = body.title || doc.title || doc.name;
    $("source-where").textContent = `${c.section}` + (page ? ` — page ${page}` : "") + ` — ${doc.name}`;
    state.opener = opener || null;
    panel.hidden = false;
    panel.focus();
    const mark = $("source-text").querySelector("mark.quote");
    if (mark) mark.scrollIntoView({ block: "center" });
  } catch (err) {
    status("Could not open the source: " + err.message);
  }
}

function closeSource() {
  $("source").hidden = true;
  if (state.opener && document.contains(state.opener)) state.opener.focus();
  state.opener = null;
}

async function upload(event) {
  event.preventDefault();
  const input = $("upload-file");
  if (!input.files.length) return;
  const file = input.files[0];
  const form = new FormData();
  form.append("file", file, file.name);
  const title = $("upload-title").value.trim();
  if (title) form.append("title", title);
  status(`Uploading and indexing ${file.name}…`);
  try {
    const res = await api("/v1/documents", { method: "POST", body: form });
    const doc = await res.json();
    status(`Added "${doc.title || doc.name}" (${doc.chunks} passages). You can ask about it now.`);
    input.value = "";
    $("upload-title").value = "";
    await loadDocuments();
  } catch (err) {
    status(`Upload failed: ${err.message}`);
  }
}

async function removeDocument(doc) {
  const name = doc.title || doc.name;
  status(`Removing ${name}…`);
  try {
    await api(`/v1/documents/${encodeURIComponent(doc.id)}`, { method: "DELETE" });
    status(`Removed ${name}.`);
    await loadDocuments();
  } catch (err) {
    status(`Could not remove ${name}: ${err.message}`);
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
  state.conversation = Conversations.create([]);

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
  $("new-conversation").addEventListener("click", newConversation);
  $("scope-clear").addEventListener("click", () => {
    state.selected.clear();
    selectionChanged();
    $("question").focus();
  });
  $("source-close").addEventListener("click", closeSource);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("source").hidden) closeSource();
  });
  $("upload-form").addEventListener("submit", upload);
  renderHistory();
  loadDocuments()
    .then(() => {
      // the last conversation comes back after a reload, selection included
      const last = Conversations.all()[0];
      if (last && !state.busy && !state.conversation.turns.length) showConversation(last);
    })
    .catch((err) => status("Could not list the documents: " + err.message));
}

document.addEventListener("DOMContentLoaded", start);
