// Upload page for the image-forensics API. Plain browser JavaScript, no build step, same origin only.
'use strict';

(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const WAIT_SECONDS = 25;
  const MAX_PARALLEL = 3;
  const KEY_STORAGE = 'dfd.apiKey';

  const els = {
    drop: $('#dropzone'),
    pick: $('#pick'),
    input: $('#file-input'),
    threshold: $('#threshold'),
    thresholdValue: $('#threshold-value'),
    thresholdReset: $('#threshold-reset'),
    crop: $('#crop-faces'),
    apiKey: $('#api-key'),
    results: $('#results'),
    summary: $('#summary'),
    clear: $('#clear'),
    template: $('#card-template'),
  };

  /** Every card shown: { el, file, url, view, state }. */
  const cards = [];
  const waiting = [];
  let running = 0;
  /** Null until the user moves the slider: then results show the server's own labels. */
  let userThreshold = null;

  // ---------------------------------------------------------------- API key (sessionStorage)
  try {
    els.apiKey.value = sessionStorage.getItem(KEY_STORAGE) || '';
  } catch {
    /* storage may be disabled */
  }
  els.apiKey.addEventListener('input', () => {
    try {
      if (els.apiKey.value) sessionStorage.setItem(KEY_STORAGE, els.apiKey.value.trim());
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      /* ignore */
    }
  });
  const authHeaders = () => {
    const key = els.apiKey.value.trim();
    return key ? { authorization: `Bearer ${key}` } : {};
  };

  // ---------------------------------------------------------------- choosing files
  els.pick.addEventListener('click', () => els.input.click());
  els.input.addEventListener('change', () => {
    addFiles(els.input.files);
    els.input.value = '';
  });
  for (const type of ['dragenter', 'dragover']) {
    document.addEventListener(type, (e) => {
      e.preventDefault();
      els.drop.classList.add('dragging');
    });
  }
  for (const type of ['dragleave', 'dragend']) {
    document.addEventListener(type, (e) => {
      if (e.type === 'dragend' || e.relatedTarget === null) els.drop.classList.remove('dragging');
    });
  }
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    els.drop.classList.remove('dragging');
    if (e.dataTransfer && e.dataTransfer.files.length > 0) addFiles(e.dataTransfer.files);
  });
  els.clear.addEventListener('click', () => {
    for (const c of cards) if (c.url) URL.revokeObjectURL(c.url);
    cards.length = 0;
    waiting.length = 0;
    els.results.replaceChildren();
    els.clear.hidden = true;
    updateSummary();
    els.pick.focus();
  });

  function addFiles(list) {
    for (const file of Array.from(list || [])) {
      const el = els.template.content.firstElementChild.cloneNode(true);
      const card = { el, file, url: null, view: null, state: 'queued', started: performance.now() };
      $('.file-name', el).textContent = file.name || 'image';
      if (file.type.startsWith('image/') || file.type === '') {
        card.url = URL.createObjectURL(file);
        const img = $('.photo', el);
        img.src = card.url;
        img.alt = `Uploaded image ${file.name}`;
        img.addEventListener('error', () => img.classList.add('broken'));
      } else {
        $('.figure', el).hidden = true;
      }
      $('.heatmap-toggle', el).addEventListener('change', () => syncHeatmap(card));
      $('.heatmap-opacity', el).addEventListener('input', () => syncHeatmap(card));
      $('.heatmap-opacity', el).setAttribute('aria-label', `Heatmap opacity for ${file.name}`);
      $('.retry', el).addEventListener('click', () => {
        setState(card, 'queued', 'Waiting to upload…');
        enqueue(card);
      });
      cards.push(card);
      els.results.append(el);
      setState(card, 'queued', 'Waiting to upload…');
      enqueue(card);
    }
    els.clear.hidden = cards.length === 0;
    updateSummary();
  }

  // ---------------------------------------------------------------- uploading, bounded
  function enqueue(card) {
    waiting.push(card);
    pump();
  }

  function pump() {
    while (running < MAX_PARALLEL && waiting.length > 0) {
      const card = waiting.shift();
      if (!cards.includes(card)) continue;
      running += 1;
      analyse(card)
        .catch((err) => showError(card, `Could not reach the server (${err && err.message ? err.message : err}). Check the connection and try again.`, true))
        .finally(() => {
          running -= 1;
          updateSummary();
          pump();
        });
    }
  }

  async function readJson(res) {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      return { error: { code: 'bad_response', message: text.slice(0, 200) } };
    }
  }

  async function analyse(card) {
    card.started = performance.now();
    setState(card, 'uploading', 'Uploading…');
    const form = new FormData();
    form.append('image', card.file, card.file.name || 'image');
    const query = new URLSearchParams({ wait: String(WAIT_SECONDS) });
    if (!els.crop.checked) query.set('crop_faces', 'false');
    let res = await fetch(`/v1/analyses?${query}`, { method: 'POST', body: form, headers: authHeaders() });
    let body = await readJson(res);
    if (!res.ok) return showHttpError(card, res, body);
    // 202: queued or processing; long-poll the analysis until it ends.
    while (body.status === 'queued' || body.status === 'processing') {
      if (!cards.includes(card)) return;
      setState(card, body.status, body.status === 'queued' ? 'Queued — waiting for a free worker…' : 'Analysing…');
      const self = (body.links && body.links.self) || `/v1/analyses/${body.id}`;
      res = await fetch(`${self}?wait=${WAIT_SECONDS}`, { headers: authHeaders() });
      body = await readJson(res);
      if (!res.ok) return showHttpError(card, res, body);
    }
    if (body.status === 'failed' || !body.result) {
      const e = body.error || {};
      return showError(card, `The analysis failed${e.code ? ` (${e.code})` : ''}: ${e.message || 'no reason given'}.`, true);
    }
    card.view = body;
    card.elapsedMs = performance.now() - card.started;
    setState(card, 'done', 'Done');
    render(card);
  }

  function size(bytes) {
    if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
    if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
    return `${bytes} bytes`;
  }

  function retryAfterText(res) {
    const raw = res.headers.get('retry-after');
    if (!raw) return 'in a little while';
    const secs = Number(raw);
    if (Number.isFinite(secs)) {
      const at = new Date(Date.now() + secs * 1000);
      return `in ${secs} second${secs === 1 ? '' : 's'} (after ${at.toLocaleTimeString()})`;
    }
    const date = new Date(raw);
    return Number.isNaN(date.getTime()) ? 'in a little while' : `after ${date.toLocaleTimeString()}`;
  }

  function showHttpError(card, res, body) {
    const msg = (body && body.error && body.error.message) || res.statusText || 'unknown error';
    const name = card.file.name || 'This file';
    switch (res.status) {
      case 413: {
        // The server's message names its limit in bytes ("… exceeds 20971520 bytes", "… the limit is N").
        const m = /(\d{4,})\s*bytes|limit is (\d{4,})/.exec(msg);
        const limit = m ? Number(m[1] || m[2]) : null;
        return showError(
          card,
          `Rejected: ${name} (${size(card.file.size)}) is larger than this server accepts` +
            (limit ? ` — the upload limit is ${size(limit)}.` : ' (its MAX_UPLOAD_BYTES limit).') +
            ' Send a smaller or re-compressed copy.',
          false,
        );
      }
      case 415:
        return showError(card, `Rejected: ${name} is not an image in a supported format (JPEG, PNG, WebP, GIF, AVIF, TIFF).`, false);
      case 422:
        return showError(card, `Rejected: ${name} looks corrupt or unreadable. ${msg}`, false);
      case 400:
        return showError(card, `Rejected: ${msg}`, false);
      case 401:
        return showError(card, `An API key is needed or the key was not accepted: ${msg} Enter a key under “API key”.`, true);
      case 403:
        return showError(card, `This API key may not do that: ${msg}`, true);
      case 429:
        return showError(card, `Too many requests right now — please retry ${retryAfterText(res)}. ${msg}`, true);
      case 503:
        return showError(card, `The service is temporarily unavailable — retry ${retryAfterText(res)}. ${msg}`, true);
      default:
        return showError(card, `The server answered ${res.status}: ${msg}`, true);
    }
  }

  function showError(card, text, retryable) {
    setState(card, 'error', 'Not analysed');
    const box = $('.error', card.el);
    box.hidden = false;
    $('.error-text', card.el).textContent = text;
    $('.retry', card.el).hidden = !retryable;
    $('.details', card.el).hidden = true;
  }

  function setState(card, state, text) {
    card.state = state;
    card.el.dataset.state = state;
    $('.status', card.el).textContent = text;
    const bar = $('.progress', card.el);
    bar.hidden = state === 'done' || state === 'error';
    bar.removeAttribute('value'); // indeterminate: the API reports states, not percentages
    if (state !== 'error') $('.error', card.el).hidden = true;
    card.el.setAttribute('aria-busy', String(!(state === 'done' || state === 'error')));
  }

  function updateSummary() {
    const n = cards.length;
    if (n === 0) {
      els.summary.textContent = 'No images yet.';
      return;
    }
    const counts = { real: 0, edited: 0, uncertain: 0 };
    let pending = 0;
    let errors = 0;
    for (const c of cards) {
      if (c.state === 'error') errors += 1;
      else if (c.state !== 'done') pending += 1;
      else counts[label(c.view.result).verdict] += 1;
    }
    const parts = [`${n} image${n === 1 ? '' : 's'}`];
    if (pending) parts.push(`${pending} in progress`);
    parts.push(`${counts.edited} edited`, `${counts.uncertain} uncertain`, `${counts.real} real`);
    if (errors) parts.push(`${errors} not analysed`);
    els.summary.textContent = parts.join(', ') + '.';
  }

  // ---------------------------------------------------------------- threshold re-labelling
  /**
   * The decision rule at the chosen threshold. The server's uncertain band [lo, hi] around its
   * threshold b moves with the threshold t and shrinks towards the end it approaches, so it stays
   * inside 0–1: lo' = t − (b − lo)·t/b, hi' = t + (hi − b)·(1 − t)/(1 − b). (Shifting the band
   * whole would push hi past 1 at high thresholds, and nothing could be called edited.)
   */
  function ruleFor(result) {
    const t = result.thresholds || { edited: 0.5, uncertain_band: [0.5, 0.5], retouched: 0.5 };
    const base = typeof t.edited === 'number' && t.edited > 0 && t.edited < 1 ? t.edited : 0.5;
    const band = Array.isArray(t.uncertain_band) && t.uncertain_band.length === 2 ? t.uncertain_band : [base, base];
    const threshold = userThreshold === null ? base : userThreshold;
    const lo = threshold - Math.max(0, base - band[0]) * (threshold / base);
    const hi = threshold + Math.max(0, band[1] - base) * ((1 - threshold) / (1 - base));
    return { threshold, lo, hi, retouched: typeof t.retouched === 'number' ? t.retouched : 0.5, moved: userThreshold !== null && Math.abs(threshold - base) > 1e-9 };
  }

  /**
   * Same rule as the server: edited at or above the threshold and above the band; real below both.
   * The confidence is the side's probability from the server's calibrated P(edited)
   * (scores.edited_probability; the score itself for results made before it existed).
   */
  function decide(scores, rule) {
    const score = scores.edited;
    const p = typeof scores.edited_probability === 'number' ? scores.edited_probability : score;
    if (score >= rule.threshold && score > rule.hi) return { verdict: 'edited', confidence: p };
    if (score < rule.threshold && score < rule.lo) return { verdict: 'real', confidence: 1 - p };
    return { verdict: 'uncertain', confidence: Math.max(p, 1 - p) };
  }

  function editTypeOf(scores, verdict, rule, fallback) {
    if (verdict === 'real') return null;
    if (scores && typeof scores.retouched === 'number') return scores.retouched >= rule.retouched ? 'retouched' : 'deepfake';
    return fallback || null;
  }

  /** The label shown for a result or a face: the server's, or re-derived at the chosen threshold. */
  function label(part, result = part) {
    const rule = ruleFor(result);
    if (!rule.moved) return { verdict: part.verdict, confidence: part.confidence, edit_type: part.edit_type, rule };
    const d = decide(part.scores, rule);
    return { ...d, edit_type: editTypeOf(part.scores, d.verdict, rule, part.edit_type), rule };
  }

  function setThresholdDisplay(value) {
    els.thresholdValue.textContent = Number(value).toFixed(2);
    els.threshold.setAttribute('aria-valuetext', Number(value).toFixed(2));
  }

  els.threshold.addEventListener('input', () => {
    userThreshold = Number(els.threshold.value);
    setThresholdDisplay(userThreshold);
    relabelAll();
  });
  els.thresholdReset.addEventListener('click', () => {
    userThreshold = null;
    const first = cards.find((c) => c.view);
    if (!first) return;
    const base = first.view.result.thresholds ? first.view.result.thresholds.edited : 0.5;
    els.threshold.value = String(base);
    setThresholdDisplay(base);
    relabelAll();
  });

  function relabelAll() {
    for (const c of cards) if (c.state === 'done') renderLabels(c);
    updateSummary();
  }

  // ---------------------------------------------------------------- rendering one result
  const pct = (v) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '—');
  const VERDICT_WORDS = { real: 'Real', edited: 'Edited', uncertain: 'Uncertain' };
  const EDIT_WORDS = { deepfake: 'deepfake (face swap / synthesis)', retouched: 'retouched (beauty edits)' };

  function render(card) {
    const { el } = card;
    const r = card.view.result;
    $('.details', el).hidden = false;
    // The server's threshold becomes the slider's starting point until the user moves it.
    if (userThreshold === null && r.thresholds && typeof r.thresholds.edited === 'number') {
      els.threshold.value = String(r.thresholds.edited);
      els.threshold.disabled = false;
      setThresholdDisplay(r.thresholds.edited);
    }
    renderEvidence(card);
    const notes = (r.notes || []).map((n) => n.replace(/^[a-z_]+: /, ''));
    $('.notes', el).textContent = notes.length ? `Notes: ${notes.join('; ')}.` : '';
    const models = (r.models || []).map((m) => `${m.name} ${m.version}${m.sha256 ? ` (${m.sha256.slice(0, 8)})` : ''}`).join(', ');
    const t = r.timings || {};
    const img = r.image || {};
    $('.meta', el).textContent =
      `Models: ${models || 'unknown'}. Time: ${typeof t.total_ms === 'number' ? `${Math.round(t.total_ms)} ms on the server` : 'unknown'}` +
      `${card.elapsedMs ? `, ${(card.elapsedMs / 1000).toFixed(1)} s end to end` : ''}. ` +
      `Image: ${img.format || '?'} ${img.original_width || '?'}×${img.original_height || '?'} (analysed at ${img.width}×${img.height}).`;

    drawHeatmap(card);
    renderLabels(card);
  }

  /** A bar whose colour says what the value means (not a <meter>, which is green whatever it shows). */
  function bar(value, tone, name) {
    const outer = document.createElement('span');
    outer.className = `bar tone-${tone}`;
    outer.setAttribute('role', 'meter');
    outer.setAttribute('aria-valuemin', '0');
    outer.setAttribute('aria-valuemax', '1');
    outer.setAttribute('aria-valuenow', String(value));
    outer.setAttribute('aria-label', name);
    const fill = document.createElement('span');
    fill.className = 'fill';
    fill.style.width = `${Math.max(0, Math.min(1, value)) * 100}%`;
    outer.append(fill);
    return outer;
  }

  function renderScores(card, l) {
    const r = card.view.result;
    const scores = $('.scores', card.el);
    scores.replaceChildren();
    const addScore = (name, v, tone, missing) => {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      if (typeof v === 'number') {
        const span = document.createElement('span');
        span.className = 'score-value';
        span.textContent = v.toFixed(3);
        dd.append(bar(v, tone, `${name} score ${v.toFixed(3)}`), span);
      } else dd.textContent = `— ${missing}`;
      scores.append(dt, dd);
    };
    // Edited: coloured by where the score falls under the rule shown (edited / uncertain / real).
    addScore('Edited', r.scores.edited, decide(r.scores, l.rule).verdict, '');
    // Deepfake vs retouched: a share between two kinds of edit, neither good nor bad.
    const why = `not assessed: the server judged this image ${r.verdict}, and the edit type is assessed only for images it judges edited`;
    addScore('Deepfake', r.scores.deepfake, 'kind', why);
    addScore('Retouched', r.scores.retouched, 'kind', why);
  }

  function renderLabels(card) {
    const { el } = card;
    const r = card.view.result;
    const l = label(r);
    renderScores(card, l);
    el.dataset.verdict = l.verdict;
    const word = $('.verdict-word', el);
    word.textContent = VERDICT_WORDS[l.verdict] || l.verdict;
    word.className = `verdict-word verdict-${l.verdict}`;
    const et = $('.edit-type', el);
    if (l.verdict === 'real') et.textContent = '';
    else if (l.edit_type) et.textContent = `— ${l.verdict === 'uncertain' ? 'if edited, most likely ' : ''}${EDIT_WORDS[l.edit_type] || l.edit_type}`;
    else et.textContent = '— edit type not assessed (the classifier runs only on images the server judged edited)';
    // Confidence in the label shown, in the label's colour.
    const holder = $('.confidence-bar', el);
    holder.replaceChildren(bar(l.confidence, l.verdict, `Confidence ${pct(l.confidence)} that it is ${l.verdict}`));
    $('.confidence-value', el).textContent = pct(l.confidence);
    const note = $('.relabel-note', el);
    note.hidden = !l.rule.moved;
    if (l.rule.moved) {
      note.textContent = `Re-labelled at threshold ${l.rule.threshold.toFixed(2)} (uncertain between ${Math.max(0, l.rule.lo).toFixed(2)} and ${Math.min(1, l.rule.hi).toFixed(2)}); the server said “${r.verdict}”.`;
    }
    $('.status', el).textContent = `Done: ${VERDICT_WORDS[l.verdict] || l.verdict}`;
    renderFaces(card);
  }

  function renderFaces(card) {
    const { el } = card;
    const r = card.view.result;
    // Numbered left to right (top to bottom on ties), as the CLI numbers its #faceN rows.
    const faces = (Array.isArray(r.faces) ? [...r.faces] : []).sort((a, b) => (a.box ? a.box.x : 0) - (b.box ? b.box.x : 0) || (a.box ? a.box.y : 0) - (b.box ? b.box.y : 0));
    const boxes = $('.boxes', el);
    const list = $('.face-list', el);
    boxes.replaceChildren();
    list.replaceChildren();
    $('.faces', el).hidden = faces.length === 0;
    const W = (r.image && r.image.width) || 1;
    const H = (r.image && r.image.height) || 1;
    // The API's boxes are on the working image; the list gives them in the original's pixels (as the CLI does).
    const longOrig = Math.max((r.image && r.image.original_width) || 0, (r.image && r.image.original_height) || 0);
    const scale = longOrig > 0 ? longOrig / Math.max(W, H) : 1;
    const o = (v) => Math.round(v * scale);
    faces.forEach((f, i) => {
      const l = label(f, r);
      const b = f.box || { x: 0, y: 0, width: 0, height: 0 };
      const div = document.createElement('div');
      div.className = `face-box verdict-${l.verdict}`;
      div.style.left = `${(b.x / W) * 100}%`;
      div.style.top = `${(b.y / H) * 100}%`;
      div.style.width = `${(b.width / W) * 100}%`;
      div.style.height = `${(b.height / H) * 100}%`;
      const tag = document.createElement('span');
      tag.textContent = `${i + 1}: ${VERDICT_WORDS[l.verdict] || l.verdict}`;
      div.append(tag);
      boxes.append(div);
      const li = document.createElement('li');
      li.textContent =
        `Face ${i + 1}: ${VERDICT_WORDS[l.verdict] || l.verdict}${l.edit_type ? ` (${l.edit_type})` : ''}, confidence ${pct(l.confidence)}; ` +
        `scores edited ${f.scores.edited.toFixed(3)}` +
        `${typeof f.scores.deepfake === 'number' ? `, deepfake ${f.scores.deepfake.toFixed(3)}` : ''}` +
        `${typeof f.scores.retouched === 'number' ? `, retouched ${f.scores.retouched.toFixed(3)}` : ''}; ` +
        `box x ${o(b.x)}, y ${o(b.y)}, ${o(b.width)}×${o(b.height)} (original pixels)`;
      list.append(li);
    });
  }

  function renderEvidence(card) {
    const dl = $('.evidence-list', card.el);
    dl.replaceChildren();
    const md = (card.view.result.evidence && card.view.result.evidence.metadata) || {};
    const exif = md.exif || {};
    const add = (k, v) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dl.append(dt, dd);
    };
    const software = [...new Set([exif.software, ...(md.editing_software || [])].filter(Boolean))];
    add('Software tags', software.length ? software.join(', ') : 'none found');
    const gen = md.generator || {};
    add('AI generator hints', gen.detected ? `yes — ${(gen.hints || []).join(', ') || 'unnamed'}` : (gen.hints || []).length ? `weak: ${gen.hints.join(', ')}` : 'none found');
    add('C2PA content credentials', md.c2pa_present ? 'present (provenance manifest embedded)' : 'not present');
    const camera = [exif.make, exif.model].filter(Boolean).join(' ');
    add('Camera', camera || 'not recorded');
    if (exif.datetime) add('Taken', exif.datetime);
    if (md.icc_profile) add('Colour profile', md.icc_profile);
  }

  // ---------------------------------------------------------------- heatmap
  /** Blue (low) → yellow → red (high); alpha grows with the value so low areas stay faint. */
  function colour(v) {
    const x = Math.max(0, Math.min(1, v));
    const r = Math.round(255 * Math.min(1, 2 * x));
    const g = Math.round(255 * (x < 0.5 ? 2 * x : 2 - 2 * x));
    const b = Math.round(255 * Math.max(0, 1 - 2 * x));
    return [r, g, b, Math.round(255 * (0.2 + 0.75 * x))];
  }

  function drawHeatmap(card) {
    const { el } = card;
    const r = card.view.result;
    const canvas = $('.heatmap', el);
    const controls = $('.heatmap-controls', el);
    // Faces carry their own maps (each drawn inside its face); otherwise the whole-image map.
    const maps = (Array.isArray(r.faces) && r.faces.length > 0 ? r.faces.map((f) => f.heatmap) : [r.heatmap]).filter(Boolean);
    const W = (r.image && r.image.width) || 0;
    const H = (r.image && r.image.height) || 0;
    if (maps.length === 0 || !W || !H) {
      canvas.hidden = true;
      controls.hidden = true;
      return;
    }
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, W, H);
    for (const map of maps) {
      const { width: gw, height: gh, values, to_image: m } = map;
      if (!gw || !gh || !Array.isArray(values) || values.length < gw * gh || !Array.isArray(m) || m.length !== 6) continue;
      const grid = document.createElement('canvas');
      grid.width = gw;
      grid.height = gh;
      const gctx = grid.getContext('2d');
      const px = gctx.createImageData(gw, gh);
      for (let i = 0; i < gw * gh; i++) px.data.set(colour(values[i]), i * 4);
      gctx.putImageData(px, 0, 0);
      // to_image = [a, b, c, d, e, f]: x = a·gx + b·gy + c, y = d·gx + e·gy + f (grid cell → image pixel).
      ctx.save();
      ctx.setTransform(m[0], m[3], m[1], m[4], m[2], m[5]);
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(grid, 0, 0);
      ctx.restore();
    }
    canvas.dataset.drawn = 'true';
    controls.hidden = false;
    syncHeatmap(card);
  }

  function syncHeatmap(card) {
    const canvas = $('.heatmap', card.el);
    if (canvas.dataset.drawn !== 'true') return;
    canvas.hidden = !$('.heatmap-toggle', card.el).checked;
    canvas.style.opacity = $('.heatmap-opacity', card.el).value;
  }

  // Until a result says which threshold the server's model uses, there is nothing to show or move.
  els.threshold.disabled = true;
  els.thresholdValue.textContent = 'the server’s (shown with the first result)';
  els.threshold.setAttribute('aria-valuetext', 'not available until a result is shown');
})();
