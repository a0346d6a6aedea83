/* The managers' dashboard: draws the figures with Chart.js (vendored, see vendor/), listens on
   the dashboard websocket and, when a sale is recorded, lists it at once and refetches the
   figures (debounced), so the page follows the texts as they arrive without a reload. */
(function () {
  "use strict";

  const body = document.body;
  const labels = JSON.parse(document.getElementById("dashboard-labels").textContent);
  const charts = {};
  const palette = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
  let refreshTimer = null;

  function months(rows) {
    return [...new Set(rows.map((r) => r.month))].sort();
  }

  function seriesByLabel(rows, value) {
    const axis = months(rows);
    const groups = {};
    rows.forEach((r) => {
      groups[r.label] = groups[r.label] || new Array(axis.length).fill(0);
      groups[r.label][axis.indexOf(r.month)] += Number(r[value]);
    });
    const datasets = Object.keys(groups).sort().map((label, i) => ({
      label, data: groups[label], backgroundColor: palette[i % palette.length], borderColor: palette[i % palette.length],
    }));
    return { labels: axis.map((m) => m.slice(0, 7)), datasets };
  }

  function chart(id, type, data, options) {
    if (charts[id]) {
      charts[id].data = data;
      charts[id].update("none");
      return;
    }
    charts[id] = new Chart(document.getElementById(id), {
      type, data, options: Object.assign({ responsive: true, animation: false, maintainAspectRatio: false }, options || {}),
    });
  }

  function money(value) {
    return Number(value || 0).toLocaleString(undefined, { maximumFractionDigits: 0 });
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function fillTable(id, rows, columns) {
    const tbody = document.querySelector(`#${id} tbody`);
    tbody.replaceChildren();
    if (!rows.length) {
      const tr = document.createElement("tr");
      cell(tr, labels.no_rows);
      tbody.appendChild(tr);
    }
    rows.forEach((r) => {
      const tr = document.createElement("tr");
      columns.forEach((c) => cell(tr, c(r)));
      tbody.appendChild(tr);
    });
  }

  function fillList(id, rows, text) {
    const list = document.getElementById(id);
    list.replaceChildren();
    rows.forEach((r) => {
      const li = document.createElement("li");
      li.textContent = text(r);
      list.appendChild(li);
    });
    if (!rows.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = labels.no_rows;
      list.appendChild(li);
    }
  }

  function draw(bundle) {
    const f = bundle.figures;
    chart("chart-region", "bar", seriesByLabel(f["sales-by-region"], "units"),
      { scales: { x: { stacked: true }, y: { stacked: true } } });
    chart("chart-product", "line", seriesByLabel(f["sales-by-product"], "units"));
    const funnel = f["pipeline-funnel"];
    chart("chart-funnel", "bar", {
      labels: funnel.map((r) => `${r.division} ${r.order}. ${r.stage}`),
      datasets: [
        { label: labels.pipeline, data: funnel.map((r) => Number(r.amount)), backgroundColor: "#93c5fd" },
        { label: labels.weighted, data: funnel.map((r) => Number(r.weighted)), backgroundColor: "#2563eb" },
      ],
    }, { indexAxis: "y" });
    const overall = f["forecast-accuracy"].filter((r) => r.level === "all");
    chart("chart-forecast", "bar", {
      labels: overall.map((r) => r.period.slice(0, 7)),
      datasets: [
        { label: labels.forecast, data: overall.map((r) => Number(r.forecast)), backgroundColor: "#d97706" },
        { label: labels.actual, data: overall.map((r) => Number(r.actual)), backgroundColor: "#16a34a" },
      ],
    });
    const ful = f["fulfilment-by-month"];
    const line = (label, key, color) => ({ label, data: ful.map((r) => r[key]), borderColor: color, backgroundColor: color });
    chart("chart-fulfilment", "line", {
      labels: ful.map((r) => r.key.slice(0, 7)),
      datasets: [
        line(labels.order_to_ship, "order_to_ship_days", "#7c3aed"),
        line(labels.ship_to_told, "ship_to_rep_told_days", "#0891b2"),
        line(labels.ship_to_receipt, "ship_to_receipt_days", "#db2777"),
        line(labels.order_to_receipt, "order_to_receipt_days", "#4b5563"),
      ],
    });
    const growth = f["growth-monthly"];
    chart("chart-growth", "bar", {
      labels: growth.map((r) => r.period.slice(0, 7) + (r.partial ? "*" : "")),
      datasets: [
        { label: labels.units_change, data: growth.map((r) => r.units_change_pct), backgroundColor: "#2563eb" },
        { label: labels.revenue_change, data: growth.map((r) => r.revenue_change_pct), backgroundColor: "#16a34a" },
      ],
    });

    const day = f["rep-day"];
    fillTable("table-rep-day", day, [(r) => r.rep, (r) => r.branch, (r) => r.units, (r) => money(r.revenue),
      (r) => money(r.rewards), (r) => r.visits, (r) => r.new_customers, (r) => r.deals_moved]);
    document.getElementById("kpi-units").textContent = day.reduce((n, r) => n + r.units, 0);
    document.getElementById("kpi-revenue").textContent = money(day.reduce((n, r) => n + Number(r.revenue), 0));
    document.getElementById("kpi-visits").textContent = day.reduce((n, r) => n + r.visits, 0);
    document.getElementById("kpi-alerts").textContent = f.alerts.length;
    fillTable("table-hot", f["hot-products"], [(r) => `${r.product} ${r.name}`, (r) => r.recent_units,
      (r) => r.previous_units, (r) => (r.growth_pct === null ? labels.new : r.growth_pct)]);
    fillTable("table-stalled", f["stalled-deals"], [(r) => `${r.name} (${r.customer})`, (r) => r.owner,
      (r) => r.stage, (r) => r.idle_days, (r) => `${r.days_in_stage} / ${r.usual_days}`, (r) => r.suggestion_text]);
    fillTable("table-customers", f["customer-value"], [(r) => r.name, (r) => r.owner, (r) => money(r.revenue), (r) => money(r.margin),
      (r) => (r.margin_pct === null ? "" : r.margin_pct), (r) => money(r.overdue_amount)]);
    fillList("alerts", f.alerts, (r) => `${r.created_at.slice(0, 10)} ${r.owner}: ${r.message}`);
    fillList("conflicts", f.conflicts,
      (r) => `${r.created_at.slice(0, 10)} ${r.existing} (${r.existing_owner}) ← ${r.reported_by}, ${r.matched_on}`);
    body.dataset.drawn = String(Number(body.dataset.drawn || 0) + 1);
  }

  function refresh() {
    fetch(body.dataset.dataUrl + window.location.search, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(draw)
      .catch(() => { /* the next event or reload tries again */ });
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 400);
  }

  function showSale(event) {
    const d = event.data;
    const list = document.getElementById("live-sales");
    list.querySelector(".empty")?.remove();
    const li = document.createElement("li");
    li.className = "sale";
    li.dataset.reference = d.reference;
    li.textContent = `${d.sold_at.slice(11, 16)} ${d.reference} ${d.rep} (${d.branch}): ${d.units} × ${d.product}` +
      (d.customer ? ` → ${d.customer}` : "");
    list.prepend(li);
  }

  function setLive(state, text) {
    body.dataset.live = state;
    document.getElementById("live-status").textContent = text;
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${body.dataset.wsPath}`);
    socket.onopen = () => setLive("connected", labels.live);
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "sale_recorded") {
        showSale(event);
        scheduleRefresh();
      }
    };
    socket.onclose = () => {
      setLive("reconnecting", labels.offline);
      setTimeout(connect, 3000);
    };
  }

  draw(JSON.parse(document.getElementById("dashboard-data").textContent));
  connect();
  window.fieldlineDashboard = { charts, refresh };
})();
