/*
 * The staff console's pages. Plain JavaScript, no dependencies. It calls the console's JSON API
 * (docs/staff.md) with the login cookie; every text from the API is set with textContent,
 * never parsed as HTML. Charts are plain SVG, each with the same numbers in a table.
 */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var KIND_NAMES = {
    rated_no: "Rated “No”", declined: "Declined or not understood",
    emergency: "Emergency or crisis", low_confidence: "Low confidence"
  };

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function api(method, path, body) {
    var options = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (reply) {
      return reply.json().then(function (data) {
        if (!reply.ok) throw new Error(data.error || "HTTP " + reply.status);
        return data;
      });
    });
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : (100 * value).toFixed(1) + " %";
  }

  function confidence(value) {
    return typeof value === "number" ? value.toFixed(2) : "?";
  }

  function markCurrentPage() {
    var here = document.body.dataset.page;
    document.querySelectorAll("nav a").forEach(function (link) {
      if (link.getAttribute("href") === "/" + here) link.setAttribute("aria-current", "page");
    });
  }

  function definitionList(pairs) {
    var list = element("dl", { "class": "facts" });
    pairs.forEach(function (pair) {
      list.append(element("dt", {}, pair[0]), element("dd", {}, pair[1]));
    });
    return list;
  }

  function replyBlock(reply) {
    var block = element("div", { "class": "reply" });
    block.append(element("p", { "class": "reply-action" }, "Reply (" + reply.source + ")"));
    block.append(element("blockquote", {}, reply.text));
    if (reply.buttons && reply.buttons.length) {
      block.append(element("p", {}, "Buttons: " + reply.buttons.map(function (b) {
        return "[" + b.title + "]";
      }).join(" ")));
    }
    if (reply.passages && reply.passages.length) {
      block.append(element("p", { "class": "passages-title" }, "Drawn from the article:"));
      var list = element("ul", { "class": "passages" });
      reply.passages.forEach(function (passage) { list.append(element("li", {}, passage)); });
      block.append(list);
    } else {
      block.append(element("p", { "class": "passages-title" },
        "Not from the article: " + (reply.not_from_article || "no source recorded")));
    }
    return block;
  }

  function turnBlock(turn, headingLevel, highlighted) {
    var section = element("section", { "class": "turn" + (highlighted ? " highlighted" : "") });
    var heading = element("h" + headingLevel, {}, "“" + turn.message + "”");
    section.append(heading);
    if (turn.answered_by_channel) {
      section.append(element("p", {}, "Answered by the channel before Rasa: " +
        turn.answered_by_channel.join(" ")));
      return section;
    }
    var intent = turn.intent || {};
    var facts = [
      ["Intent", (intent.name || "none") + " (" + confidence(intent.confidence) + ")"],
      ["Runner-up", (turn.runner_ups || []).map(function (item) {
        return item.name + " (" + confidence(item.confidence) + ")";
      }).join(", ") || "none"],
      ["Entities", (turn.entities || []).map(function (entity) {
        return entity.entity + "=" + entity.value + (entity.extractor ? " (" + entity.extractor + ")" : "");
      }).join(", ") || "none"],
      ["Red flag", turn.red_flag ? turn.red_flag.kind + " (matched “" + turn.red_flag.phrase + "”)" : "none"],
      ["Actions", (turn.actions || []).map(function (step) {
        return step.name + " (" + step.policy + (typeof step.confidence === "number" ? ", " +
          step.confidence.toFixed(2) : "") + ")";
      }).join(", ") || "none"]
    ];
    facts.push(["Slots after the turn", Object.keys(turn.slots || {}).map(function (name) {
      return name + "=" + JSON.stringify(turn.slots[name]);
    }).join(", ") || "none"]);
    if (turn.rating) facts.push(["Rated helpful", turn.rating]);
    (turn.comments || []).forEach(function (comment) { facts.push(["Comment", comment]); });
    if (turn.time) facts.unshift(["Time (UTC)", turn.time]);
    section.append(definitionList(facts));
    (turn.replies || []).forEach(function (reply) { section.append(replyBlock(reply)); });
    return section;
  }

  // --- Try ------------------------------------------------------------------------------------

  function tryPage() {
    var form = document.getElementById("try-form");
    var status = document.getElementById("try-status");
    var results = document.getElementById("try-results");
    var sender = null;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var messages = form.messages.value.split("\n").map(function (line) { return line.trim(); })
        .filter(Boolean);
      if (!messages.length) return;
      var body = { messages: messages };
      if (form["continue"].checked && sender) body.sender = sender;
      status.textContent = "Asking the assistant…";
      api("POST", "/api/try", body).then(function (data) {
        sender = data.sender;
        results.replaceChildren(element("h2", {}, "Trial conversation " + data.sender));
        data.turns.forEach(function (turn) { results.append(turnBlock(turn, 3, false)); });
        status.textContent = "Done: " + data.turns.length + " message(s).";
      }, function (error) { status.textContent = "Failed: " + error.message; });
    });
  }

  // --- Review ---------------------------------------------------------------------------------

  function reviewForm(item, intents) {
    var form = element("form", { "class": "review-form" });
    var noteId = "note-" + item.id;
    var intentId = "intent-" + item.id;
    var select = element("select", { id: intentId, name: "suggested_intent" });
    select.append(element("option", { value: "" }, "No training example"));
    intents.forEach(function (intent) { select.append(element("option", { value: intent }, intent)); });
    var note = element("textarea", { id: noteId, name: "note", rows: "2" });
    if (item.review) {
      note.value = item.review.note;
      select.value = item.review.suggested_intent || "";
    }
    var state = element("p", { role: "status" },
      item.review ? "Reviewed " + item.review.time + "." : "Not reviewed yet.");
    form.append(element("label", { "for": noteId }, "Note"), note,
      element("label", { "for": intentId }, "Suggested intent (for the export)"), select,
      element("button", { type: "submit" }, "Mark reviewed"), state);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { note: note.value, suggested_intent: select.value || null };
      api("POST", "/api/review/" + item.id, body).then(function () {
        state.textContent = "Reviewed just now.";
      }, function (error) { state.textContent = "Failed: " + error.message; });
    });
    return form;
  }

  function reviewItem(item, intents) {
    var article = element("article", { "class": "item", "aria-labelledby": "item-" + item.id });
    article.append(element("h2", { id: "item-" + item.id }, "“" + item.message + "”"));
    article.append(element("p", { "class": "kinds" }, item.kinds.map(function (kind) {
      return KIND_NAMES[kind] || kind;
    }).join(" · ") + " · " + item.time + " · conversation " + item.sender));
    var context = element("div", { "class": "context" });
    context.append(element("p", { "class": "context-title" }, "The conversation around it:"));
    item.context.forEach(function (turn) { context.append(turnBlock(turn, 3, turn.id === item.id)); });
    article.append(context, reviewForm(item, intents));
    return article;
  }

  function reviewPage() {
    var form = document.getElementById("review-filter");
    var status = document.getElementById("review-status");
    var list = document.getElementById("review-items");
    var intents = [];
    var latest = 0;
    function load() {
      var request = latest += 1;
      status.textContent = "Loading…";
      api("GET", "/api/review?kind=" + encodeURIComponent(form.kind.value)).then(function (data) {
        if (request !== latest) return;  // a newer request is on its way
        list.replaceChildren();
        data.items.forEach(function (item) { list.append(reviewItem(item, intents)); });
        status.textContent = data.items.length + " message(s): " +
          form.kind.options[form.kind.selectedIndex].text + ".";
      }, function (error) { status.textContent = "Failed: " + error.message; });
    }
    form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
    api("GET", "/api/answers").then(function (data) {
      intents = data.intents.map(function (entry) { return entry.intent; });
    }).finally(load);
  }

  // --- Overview -------------------------------------------------------------------------------

  function svgNode(tag, attributes, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attributes).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function barChart(title, rows, format) {
    // rows: [[label, value]]; a horizontal bar per row, values from 0 to the largest (or 1).
    var figure = element("figure", { "class": "chart" });
    figure.append(element("figcaption", {}, title));
    var barHeight = 22, labelWidth = 190, width = 560, height = rows.length * (barHeight + 6) + 6;
    var largest = Math.max.apply(null, rows.map(function (row) { return row[1] || 0; }).concat([1e-9]));
    if (format === percent) largest = 1;
    var svg = svgNode("svg", {
      viewBox: "0 0 " + width + " " + Math.max(height, 30), role: "img", "aria-label": title + " (chart; the table below has the numbers)"
    });
    rows.forEach(function (row, index) {
      var y = 6 + index * (barHeight + 6);
      var barWidth = (width - labelWidth - 90) * ((row[1] || 0) / largest);
      svg.append(svgNode("text", { x: labelWidth - 6, y: y + 16, "text-anchor": "end" }, row[0]));
      svg.append(svgNode("rect", { x: labelWidth, y: y, width: Math.max(barWidth, 1), height: barHeight }));
      svg.append(svgNode("text", { x: labelWidth + barWidth + 6, y: y + 16 }, format(row[1])));
    });
    figure.append(svg);
    var table = element("table", {});
    table.append(element("caption", { "class": "hidden" }, title));
    rows.forEach(function (row) {
      var line = element("tr", {});
      line.append(element("th", { scope: "row" }, row[0]), element("td", {}, format(row[1])));
      table.append(line);
    });
    var details = element("details", {});
    details.append(element("summary", {}, "Numbers"), table);
    figure.append(details);
    return figure;
  }

  function overviewPage() {
    var status = document.getElementById("overview-status");
    var charts = document.getElementById("overview-charts");
    var totals = document.getElementById("overview-totals");
    api("GET", "/api/stats").then(function (data) {
      var days = data.days;
      totals.replaceChildren(definitionList([
        ["Messages", data.totals.messages || 0],
        ["Share understood", percent(data.share_understood)],
        ["Share rated helpful", percent(data.share_helpful) + " of " + (data.totals.rated || 0) + " rated"],
        ["Emergencies and crises", data.totals.emergencies || 0]
      ]));
      var count = function (value) { return String(value || 0); };
      charts.replaceChildren(
        barChart("Messages per day", days.map(function (d) { return [d.date, d.messages]; }), count),
        barChart("Share understood per day", days.map(function (d) {
          return [d.date, d.messages ? d.understood / d.messages : null];
        }), percent),
        barChart("Share rated helpful per day", days.map(function (d) {
          return [d.date, d.rated ? d.helpful / d.rated : null];
        }), percent),
        barChart("Questions by topic", Object.keys(data.topics).map(function (topic) {
          return [topic, data.topics[topic]];
        }), count),
        barChart("Emergencies and crises per day", days.map(function (d) {
          return [d.date, d.emergencies];
        }), count)
      );
      status.textContent = days.length ? "" : "No conversations yet.";
    }, function (error) { status.textContent = "Failed: " + error.message; });
  }

  // --- Answers --------------------------------------------------------------------------------

  function answersPage() {
    var status = document.getElementById("answers-status");
    var list = document.getElementById("answers-list");
    api("GET", "/api/answers").then(function (data) {
      data.intents.forEach(function (entry) {
        var section = element("section", { "class": "item" });
        section.append(element("h2", {}, entry.intent));
        section.append(element("p", { "class": "sign-off" }, "Sign-off: " + entry.sign_off));
        if (!entry.answers.length) {
          section.append(element("p", {}, "Answered by " + entry.actions.join(", ") +
            " (a custom action: try it on the Try page)."));
        }
        entry.answers.forEach(function (answer) {
          section.append(replyBlock(answer));
        });
        list.append(section);
      });
      status.textContent = data.report ? "" : "No review report yet: run make review.";
    }, function (error) { status.textContent = "Failed: " + error.message; });
  }

  // --- Login ----------------------------------------------------------------------------------

  function loginPage() {
    // make run prints a link with the token after "#": it never reaches a server or a log.
    var match = /^#token=(.+)$/.exec(window.location.hash);
    if (!match) return;
    history.replaceState(null, "", window.location.pathname);
    var form = document.getElementById("login-form");
    form.token.value = decodeURIComponent(match[1]);
    form.submit();
  }

  var pages = { "try": tryPage, review: reviewPage, overview: overviewPage, answers: answersPage,
    login: loginPage };
  markCurrentPage();
  (pages[document.body.dataset.page] || function () {})();
}());
