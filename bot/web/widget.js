/*
 * Chat widget for the metastatic breast cancer assistant. Plain JavaScript: no dependencies,
 * no build step, nothing fetched from elsewhere. Embed it with one tag:
 *
 *   <script src="/widget.js" defer data-server="https://rasa.example.org"
 *           data-title="Ask about metastatic breast cancer"
 *           data-greeting="Hello. What would you like to know?"></script>
 *
 * Optional: data-notice (the safety line under the title), data-storage="local" (keep the
 * conversation after the tab is closed; the default, "session", forgets it then, which suits a
 * shared computer), data-css (another style sheet than widget.css next to this file).
 *
 * Feedback (docs/staff.md), on when data-feedback-question is set: after each answer the widget
 * asks that question with the buttons of data-feedback-buttons (JSON [{title, payload}], the
 * domain's utter_ask_rating), except after a reply marked "ask_feedback": false (emergency and
 * crisis guidance, the thanks for a rating). After a "helpful": "no" button, a comment field
 * (data-feedback-comment: its label, data-feedback-send: its button) sends the same payload
 * with a "comment".
 *
 * It talks to Rasa's REST channel: POST {server}/webhooks/rest/webhook with
 * {"sender", "message"}; the Rasa server must allow this page's origin (rasa run --cors).
 * It shows text only: every message is set with textContent, never parsed as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.dataset.server) {
    window.console.error("chat widget: the script tag needs a data-server attribute");
    return;
  }

  var config = {
    server: script.dataset.server.replace(/\/+$/, ""),
    title: script.dataset.title || "Ask a question",
    greeting: script.dataset.greeting || "",
    notice: script.dataset.notice || "Not medical advice. In an emergency call your local emergency number.",
    css: script.dataset.css || new URL("widget.css", script.src).href,
    storage: script.dataset.storage === "local" ? "localStorage" : "sessionStorage",
    feedbackQuestion: script.dataset.feedbackQuestion || "",
    feedbackButtons: readButtons(script.dataset.feedbackButtons),
    commentLabel: script.dataset.feedbackComment || "",
    commentSend: script.dataset.feedbackSend || ""
  };
  var STORAGE_KEY = "mbc-chat:" + config.server;
  var MAX_KEPT_MESSAGES = 200;
  var REPLY_TIMEOUT_MS = 30000;
  var UNAVAILABLE = "Sorry, the assistant is not available right now. Please try again later.";

  var store = openStore(config.storage);
  var state = loadState();
  var pending = Promise.resolve();
  var ui = build();

  function readButtons(json) {
    try {
      var buttons = JSON.parse(json || "[]");
      return Array.isArray(buttons) ? buttons : [];
    } catch (error) {
      return [];
    }
  }

  function openStore(name) {
    // Storage can be switched off (private mode, blocked cookies): then the chat still works
    // but forgets the conversation on reload.
    try {
      var candidate = window[name];
      candidate.setItem(STORAGE_KEY + ":probe", "1");
      candidate.removeItem(STORAGE_KEY + ":probe");
      return candidate;
    } catch (error) {
      return null;
    }
  }

  function newSenderId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (byte) {
      return (byte + 256).toString(16).slice(1);
    }).join("");
  }

  function loadState() {
    try {
      var saved = JSON.parse(store && store.getItem(STORAGE_KEY));
      if (saved && typeof saved.sender === "string" && Array.isArray(saved.messages)) {
        return saved;
      }
    } catch (error) { /* unreadable: start a new conversation */ }
    return { sender: newSenderId(), open: false, messages: [] };
  }

  function saveState() {
    state.messages = state.messages.slice(-MAX_KEPT_MESSAGES);
    try {
      if (store) store.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (error) { /* full or switched off: keep going without it */ }
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function build() {
    var stylesheet = element("link", { rel: "stylesheet", href: config.css });
    var root = element("div", { "class": "mbc-chat" });
    var launcher = element("button", {
      type: "button", "class": "mbc-chat-launcher",
      "aria-expanded": "false", "aria-controls": "mbc-chat-panel"
    }, config.title);
    var panel = element("section", {
      id: "mbc-chat-panel", "class": "mbc-chat-panel", "aria-labelledby": "mbc-chat-title"
    });
    var header = element("div", { "class": "mbc-chat-header" });
    var restart = element("button", { type: "button", "class": "mbc-chat-restart" }, "Start over");
    var close = element("button", {
      type: "button", "class": "mbc-chat-close", "aria-label": "Close chat"
    }, "\u00d7");
    // The list sits inside the log: role="log" on the <ol> itself would hide its list semantics
    // and leave the <li> messages outside any list.
    var log = element("div", {
      "class": "mbc-chat-log", role: "log", "aria-live": "polite",
      "aria-label": "Conversation", tabindex: "0"
    });
    var list = element("ol", { "class": "mbc-chat-list" });
    log.append(list);
    var status = element("p", { "class": "mbc-chat-status", role: "status" });
    var form = element("form", { "class": "mbc-chat-form" });
    var input = element("input", {
      id: "mbc-chat-input", type: "text", autocomplete: "off", maxlength: "500",
      placeholder: "Type your question"
    });
    var send = element("button", { type: "submit", "class": "mbc-chat-send" }, "Send");
    var comment = buildCommentForm();

    header.append(element("h2", { id: "mbc-chat-title" }, config.title), restart, close);
    form.append(element("label", { "for": "mbc-chat-input", "class": "mbc-chat-hidden" },
      "Your question"), input, send);
    panel.append(header, element("p", { "class": "mbc-chat-notice" }, config.notice),
      log, status, comment.form, form);
    root.append(launcher, panel);

    var parts = { root: root, launcher: launcher, panel: panel, log: log, list: list,
      status: status, input: input, comment: comment };
    // The transcript is drawn before the region joins the page, so a reload does not make a
    // screen reader read the whole conversation again.
    if (!state.messages.length) greet();
    state.messages.forEach(function (message, index) {
      list.append(renderMessage(message, index >= lastUserIndex()));
    });
    setOpen(parts, state.open, false);

    launcher.addEventListener("click", function () { toggle(!state.open); });
    close.addEventListener("click", function () { toggle(false); });
    restart.addEventListener("click", startOver);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") toggle(false);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = "";
      ask(text, text);
    });

    // The log's height is only known once the styles apply.
    stylesheet.addEventListener("load", function () { scrollToEnd(log); });
    document.head.append(stylesheet);
    document.body.append(root);
    scrollToEnd(log);
    return parts;
  }

  function buildCommentForm() {
    var form = element("form", { "class": "mbc-chat-comment" });
    var field = element("input", {
      id: "mbc-chat-comment-input", type: "text", autocomplete: "off", maxlength: "300"
    });
    form.append(element("label", { "for": "mbc-chat-comment-input" }, config.commentLabel),
      field, element("button", { type: "submit" }, config.commentSend));
    form.hidden = true;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = field.value.trim();
      if (!text) return;
      field.value = "";
      form.hidden = true;
      ask(withComment(form.dataset.payload, text), text);
    });
    return { form: form, field: field };
  }

  function withComment(payload, text) {
    // "/rate_answer{...}": the intent, then its entities as JSON.
    var start = payload.indexOf("{");
    var entities = JSON.parse(payload.slice(start));
    entities.comment = text;
    return payload.slice(0, start) + JSON.stringify(entities);
  }

  function offersComment(payload) {
    return Boolean(config.commentLabel) && /"helpful":\s*"no"/.test(payload);
  }

  function setOpen(parts, open, moveFocus) {
    parts.panel.hidden = !open;
    parts.launcher.setAttribute("aria-expanded", String(open));
    if (!moveFocus) return;
    if (open) {
      scrollToEnd(parts.log);
      parts.input.focus();
    } else {
      parts.launcher.focus();
    }
  }

  function toggle(open) {
    state.open = open;
    saveState();
    setOpen(ui, open, true);
  }

  function greet() {
    if (config.greeting) state.messages.push({ from: "bot", text: config.greeting, buttons: [] });
  }

  function startOver() {
    state = { sender: newSenderId(), open: true, messages: [] };
    ui.list.replaceChildren();
    ui.comment.form.hidden = true;
    greet();
    state.messages.forEach(function (message) { ui.list.append(renderMessage(message, true)); });
    saveState();
    ui.input.focus();
  }

  function lastUserIndex() {
    for (var index = state.messages.length - 1; index >= 0; index -= 1) {
      if (state.messages[index].from === "user") return index;
    }
    return -1;
  }

  function renderMessage(message, withButtons) {
    var speaker = { user: "You", bot: "Assistant", system: "Notice" }[message.from] || "Notice";
    var item = element("li", {
      "class": "mbc-chat-message mbc-chat-" + message.from + (message.feedback ? " mbc-chat-feedback" : "")
    });
    item.append(element("span", { "class": "mbc-chat-hidden" }, speaker + ": "),
      element("span", { "class": "mbc-chat-text" }, message.text));
    if (withButtons && message.buttons && message.buttons.length) {
      var group = element("div", {
        "class": "mbc-chat-replies", role: "group",
        "aria-label": message.feedback ? message.text : "Suggested answers"
      });
      message.buttons.forEach(function (button) {
        var choice = element("button", { type: "button" }, button.title);
        choice.addEventListener("click", function () {
          ask(button.payload, button.title);
          if (message.feedback && offersComment(button.payload)) showCommentForm(button.payload);
        });
        group.append(choice);
      });
      item.append(group);
    }
    return item;
  }

  function addMessage(message) {
    if (message.from === "user") {
      // Suggested answers belong to the turn they came with.
      ui.list.querySelectorAll(".mbc-chat-replies").forEach(function (group) { group.remove(); });
      ui.comment.form.hidden = true;
    }
    state.messages.push(message);
    saveState();
    ui.list.append(renderMessage(message, true));
    scrollToEnd(ui.log);
  }

  function scrollToEnd(log) {
    log.scrollTop = log.scrollHeight;
  }

  function ask(message, shownAs) {
    var hadFocusInReplies = document.activeElement &&
      document.activeElement.closest(".mbc-chat-replies");
    addMessage({ from: "user", text: shownAs, buttons: [] });
    if (hadFocusInReplies) ui.input.focus();
    ui.status.textContent = "The assistant is writing\u2026";
    pending = pending.then(function () { return post(message); }).then(showReplies, function () {
      addMessage({ from: "system", text: UNAVAILABLE + " " + config.notice, buttons: [] });
    }).then(function () { ui.status.textContent = ""; });
  }

  function post(message) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, REPLY_TIMEOUT_MS);
    return fetch(config.server + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: message }),
      signal: controller.signal
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).finally(function () { clearTimeout(timer); });
  }

  function showCommentForm(payload) {
    ui.comment.form.dataset.payload = payload;
    ui.comment.form.hidden = false;
    ui.comment.field.focus();
  }

  function askForFeedback(replies) {
    var answered = replies.some(function (reply) { return typeof reply.text === "string"; });
    var allowed = replies.every(function (reply) { return reply.ask_feedback !== false; });
    if (!config.feedbackQuestion || !config.feedbackButtons.length || !answered || !allowed) return;
    addMessage({
      from: "bot", text: config.feedbackQuestion, buttons: config.feedbackButtons, feedback: true
    });
  }

  function showReplies(replies) {
    replies = Array.isArray(replies) ? replies : [];
    replies.forEach(function (reply) {
      var buttons = (Array.isArray(reply.buttons) ? reply.buttons : []).filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      }).map(function (b) { return { title: b.title, payload: b.payload }; });
      var text = typeof reply.text === "string" ? reply.text : "";
      if (text || buttons.length) addMessage({ from: "bot", text: text, buttons: buttons });
    });
    askForFeedback(replies);
  }
}());
