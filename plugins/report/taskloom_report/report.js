"use strict";
// Draws the execution report from the JSON data above. Every text that comes from a run (names, values,
// errors, logs) is set with textContent or as an attribute value, never parsed as HTML.
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const NODE_W = 180, NODE_H = 38, COL = 230, ROW = 50, PAD = 12;
  const byPath = new Map(data.nodes.map((node) => [node.path, node]));

  function el(tag, attributes, text) {
    const made = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) made.setAttribute(name, String(value));
    if (text !== undefined && text !== null) made.textContent = String(text);
    return made;
  }
  function seconds(value) {
    if (value === null || value === undefined) return "";
    if (value < 0.001) return (value * 1e6).toFixed(0) + " µs";
    if (value < 1) return (value * 1000).toFixed(value < 0.01 ? 2 : 0) + " ms";
    if (value < 120) return value.toFixed(2) + " s";
    return (value / 60).toFixed(1) + " min";
  }
  function stateClass(state) { return "state-" + String(state || "not run").replace(/[^a-z]+/g, "-"); }
  function shortName(entity) { const parts = String(entity).split("."); return parts[parts.length - 1]; }

  // --- summary -------------------------------------------------------------------------------
  const execution = data.execution;
  const summary = document.getElementById("summary");
  summary.append(el("h1", {}, execution.kind + " " + execution.entity));
  const line = el("div");
  line.append(el("span", { class: "badge " + stateClass(execution.state) }, execution.state), " execution " + execution.id +
    " · started " + new Date(execution.started * 1000).toISOString() + " · " + seconds(execution.duration) +
    (execution.state === "running" ? " so far (still running when this report was written)" : ""));
  summary.append(line);
  if (execution.error) summary.append(el("pre", { class: "error" }, execution.error));
  if (execution.note) summary.append(el("div", {}, execution.note));

  // --- panel ---------------------------------------------------------------------------------
  const panel = document.getElementById("panel");
  function definitions(target, entries) {
    const list = el("dl");
    for (const [term, value] of entries) {
      if (value === null || value === undefined || value === "") continue;
      list.append(el("dt", {}, term), el("dd", {}, value));
    }
    target.append(list);
  }
  function values(title, map) {
    if (!map || !Object.keys(map).length) return;
    panel.append(el("h3", {}, title));
    for (const [name, value] of Object.entries(map)) {
      panel.append(el("div", {}, name), el("pre", {}, value));
    }
  }
  function histogram(elements) {
    const bars = elements.succeeded.length, width = 360, height = 90, each = width / bars;
    const top = Math.max(1, ...elements.succeeded.map((count, index) => count + elements.failed[index]));
    const svg = el("svg:svg", { width: width, height: height + 16, class: "histogram" });
    elements.succeeded.forEach((count, index) => {
      const failed = elements.failed[index];
      const ok = (count / top) * height, bad = (failed / top) * height;
      const x = index * each;
      const okBar = el("svg:rect", { x: x, y: height - ok, width: each - 1, height: ok, class: "bar state-succeeded" });
      okBar.append(el("svg:title", {}, count + " succeeded"));
      const badBar = el("svg:rect", { x: x, y: height - ok - bad, width: each - 1, height: bad, class: "bar state-failed" });
      badBar.append(el("svg:title", {}, failed + " failed"));
      svg.append(okBar, badBar);
    });
    svg.append(el("svg:text", { x: 0, y: height + 12 }, seconds(elements.low)));
    svg.append(el("svg:text", { x: width, y: height + 12, "text-anchor": "end" }, seconds(elements.high)));
    if (elements.scale === "log") svg.append(el("svg:text", { x: width / 2, y: height + 12, "text-anchor": "middle" }, "(log scale)"));
    return svg;
  }
  function open(path) {
    const node = byPath.get(path) || data.nodes.flatMap((top) => top.inner).find((inner) => inner.path === path);
    if (!node) return;
    document.querySelectorAll(".selected").forEach((item) => item.classList.remove("selected"));
    document.querySelectorAll('[data-path="' + CSS.escape(path) + '"]').forEach((item) => item.classList.add("selected"));
    panel.replaceChildren();
    panel.hidden = false;
    panel.append(el("h2", {}, node.path + " · " + shortName(node.entity)));
    definitions(panel, [
      ["runs", node.entity], ["kind", node.kind], ["state", node.state], ["attempts", node.attempts],
      ["duration", seconds(node.duration)],
      ["cache", node.cache], ["outputs", node.outputs_state],
      ["children", node.children ? node.children.succeeded + " succeeded, " + node.children.failed + " failed" : null],
    ]);
    if (node.deck) {
      panel.append(el("h3", {}, "Deck"));
      panel.append(el("a", { href: node.deck, target: "_blank", rel: "noopener" }, "open the deck of " + node.path));
    }
    if (node.error) { panel.append(el("h3", {}, "Error")); panel.append(el("pre", { class: "node-error" }, node.error)); }
    if (node.traceback) { panel.append(el("h3", {}, "Traceback")); panel.append(el("pre", { class: "traceback" }, node.traceback)); }
    if (node.logs) { panel.append(el("h3", {}, "Logs")); panel.append(el("pre", { class: "logs" }, node.logs)); }
    values("Inputs", node.inputs);
    values("Outputs", node.outputs);
    if (node.elements) { panel.append(el("h3", {}, "Children's durations")); panel.append(histogram(node.elements)); }
    if (node.inner && node.inner.length) {
      panel.append(el("h3", {}, "Inside (" + (node.inner.length + node.inner_more) + ")"));
      for (const inner of node.inner) {
        const item = el("div", {}, inner.path + " " + shortName(inner.entity) + ": " + inner.state + " " + seconds(inner.duration));
        panel.append(item);
        if (inner.error) panel.append(el("pre", {}, inner.error));
      }
      if (node.inner_more) panel.append(el("div", {}, "and " + node.inner_more + " more"));
    }
  }

  // --- the graph -----------------------------------------------------------------------------
  const columns = 1 + Math.max(0, ...data.nodes.map((node) => node.layer));
  const rows = 1 + Math.max(0, ...data.nodes.map((node) => node.row));
  const dag = el("svg:svg", { width: columns * COL + PAD, height: rows * ROW + PAD, id: "dag-svg" });
  const at = (node) => [PAD + node.layer * COL, PAD + node.row * ROW];
  for (const node of data.nodes) {
    for (const source of node.upstream) {
      const from = byPath.get(source);
      if (!from) continue;
      const [x1, y1] = at(from), [x2, y2] = at(node);
      const a = [x1 + NODE_W, y1 + NODE_H / 2], b = [x2, y2 + NODE_H / 2], middle = (a[0] + b[0]) / 2;
      dag.append(el("svg:path", { class: "edge", d: `M${a[0]},${a[1]} C${middle},${a[1]} ${middle},${b[1]} ${b[0]},${b[1]}` }));
    }
  }
  for (const node of data.nodes) {
    const [x, y] = at(node);
    const group = el("svg:g", { class: "node kind-" + node.kind + " " + stateClass(node.state), "data-path": node.path,
      transform: `translate(${x},${y})` });
    group.append(el("svg:title", {}, node.entity + " (" + node.state + ")"));
    group.append(el("svg:rect", { width: NODE_W, height: NODE_H, class: stateClass(node.state) }));
    group.append(el("svg:text", { x: 6, y: 15 }, shortName(node.entity).slice(0, 26)));
    const attempts = node.attempts > 1 ? " · " + node.attempts + " attempts" : "";
    const children = node.children ? " · " + (node.children.succeeded + node.children.failed) + " el." : "";
    group.append(el("svg:text", { x: 6, y: 30 }, node.path + " · " + (seconds(node.duration) || node.state) + attempts + children));
    group.addEventListener("click", () => open(node.path));
    dag.append(group);
  }
  document.getElementById("dag").append(dag);

  // --- the timeline --------------------------------------------------------------------------
  const bars = data.timeline;
  const begin = Math.min(execution.started, ...bars.map((bar) => bar.start));
  const end = Math.max(execution.started + execution.duration, ...bars.map((bar) => bar.end));
  // As wide as its section (the whole run fits at once; the panel, while closed, takes no room), never narrower
  // than 600 pixels.
  const room = document.getElementById("timeline").clientWidth - 2 * PAD - 4;
  const span = Math.max(end - begin, 1e-6), WIDTH = Math.max(600, room), LANE = 22;
  const laneCount = 1 + Math.max(0, ...bars.map((bar) => bar.lane));
  const timeline = el("svg:svg", { width: WIDTH + 2 * PAD, height: laneCount * LANE + 30, id: "timeline-svg" });
  for (let tick = 0; tick <= 4; tick++) {
    const x = PAD + (tick / 4) * WIDTH;
    timeline.append(el("svg:line", { x1: x, x2: x, y1: 0, y2: laneCount * LANE + 8, class: "tick" }));
    timeline.append(el("svg:text", { x: x, y: laneCount * LANE + 22,
      "text-anchor": tick === 0 ? "start" : tick === 4 ? "end" : "middle" }, tick === 0 ? "0" : seconds((tick / 4) * span)));
  }
  for (const bar of bars) {
    const x = PAD + ((bar.start - begin) / span) * WIDTH;
    const width = Math.max(2, ((bar.end - bar.start) / span) * WIDTH);
    const rect = el("svg:rect", { x: x, y: 4 + bar.lane * LANE, width: width, height: LANE - 6,
      class: "bar " + stateClass(bar.state), "data-path": bar.path });
    const node = byPath.get(bar.path);
    rect.append(el("svg:title", {}, bar.path + " " + (node ? node.entity : "") + " · " + seconds(bar.end - bar.start)));
    rect.addEventListener("click", () => open(bar.path));
    timeline.append(rect);
    // The node's name on its bar when it fits there, else just after it (the text does not take clicks).
    const full = bar.path + " " + (node ? shortName(node.entity) : "");
    const name = width > 7 * full.length || width <= 7 * bar.path.length + 8 ? full : bar.path;
    const inside = width > 7 * name.length;
    timeline.append(el("svg:text", { x: inside ? x + 4 : x + width + 4, y: 4 + bar.lane * LANE + 12,
      class: inside ? "bar-label inside" : "bar-label" }, name));
  }
  document.getElementById("timeline").append(timeline);

  performance.mark("rendered");
  document.body.dataset.rendered = "true";
})();
