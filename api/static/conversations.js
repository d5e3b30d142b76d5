// Conversations kept in this browser (localStorage): each is its turns as answered,
// the messages the chat endpoint takes for a follow-up, and the documents it was asked
// within. Nothing leaves the browser; a full store drops the oldest conversations.
"use strict";

const CONVERSATIONS_KEY = "rag-conversations";
const MAX_CONVERSATIONS = 50;

const Conversations = {
  all() {
    try {
      const list = JSON.parse(localStorage.getItem(CONVERSATIONS_KEY) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (_) {
      return []; // damaged by hand: start afresh rather than break the page
    }
  },

  get(id) {
    return this.all().find((c) => c.id === id) || null;
  },

  // newest first; the oldest dropped when the list or the browser's quota is full
  save(conversation) {
    conversation.updated = Date.now();
    let list = [conversation, ...this.all().filter((c) => c.id !== conversation.id)];
    list = list.slice(0, MAX_CONVERSATIONS);
    for (;;) {
      try {
        localStorage.setItem(CONVERSATIONS_KEY, JSON.stringify(list));
        return;
      } catch (_) {
        if (list.length <= 1) return; // one conversation larger than the quota: not kept
        list = list.slice(0, -1);
      }
    }
  },

  remove(id) {
    const list = this.all().filter((c) => c.id !== id);
    localStorage.setItem(CONVERSATIONS_KEY, JSON.stringify(list));
  },

  create(documents) {
    const id = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random();
    return { id, title: "", updated: Date.now(), documents: documents || [], turns: [], messages: [] };
  },
};
