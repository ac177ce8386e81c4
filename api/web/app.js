// Minimal agents dashboard: polls /api/v1/agents and renders a table.
// Every value from the API is agent-supplied text: it is inserted with textContent only, never as
// HTML, so a hostname like <img src=x onerror=...> is shown literally.
"use strict";

const REFRESH_MS = 5000;

const tbody = document.querySelector("#agents tbody");
const summary = document.getElementById("summary");
const errorBox = document.getElementById("error");

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text == null ? "—" : String(text);
  return td;
}

function formatTime(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function renderRow(agent) {
  const tr = document.createElement("tr");
  tr.append(
    cell(agent.hostname),
    cell(agent.os),
    cell(agent.version),
    statusCell(agent.status),
    cell(formatTime(agent.last_seen)),
  );
  if (agent.last_seen) tr.lastChild.title = agent.last_seen;
  return tr;
}

function statusCell(status) {
  const td = cell(status);
  td.className = status === "online" ? "online" : "offline";
  return td;
}

function render(agents) {
  tbody.replaceChildren(...agents.map(renderRow));
  const online = agents.filter((a) => a.status === "online").length;
  summary.textContent = `${agents.length} agents, ${online} online · updated ` +
    new Date().toLocaleTimeString();
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

async function refresh() {
  try {
    const response = await fetch("/api/v1/agents", { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) {
      showError(`${body.title || response.status}: ${body.detail || ""} (${body.correlation_id || "no id"})`);
      return;
    }
    errorBox.hidden = true;
    render(Array.isArray(body.agents) ? body.agents : []);
  } catch (err) {
    showError(`Cannot reach the API: ${err.message}`);
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
