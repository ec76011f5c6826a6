/**
 * The chat page: one self-contained document. Its script and style carry a per-response nonce,
 * the only inline code the Content-Security-Policy admits. The client script is plain ES5-style
 * JavaScript inside String.raw, so it must contain no backquote and no dollar-brace sequence.
 */

export function pageSecurityPolicy(nonce: string, port: number): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function renderPage(nonce: string): string {
  return String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fakechat</title>
<style nonce="${nonce}">
  :root {
    --bg: #f3f4f6; --panel: #ffffff; --text: #1f2937; --muted: #6b7280; --border: #e5e7eb;
    --you: #2563eb; --you-text: #ffffff; --ok: #16a34a; --no: #dc2626; --warn: #d97706;
  }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  html, body { height: 100%; margin: 0; }
  body {
    display: flex; flex-direction: column; background: var(--bg); color: var(--text);
    font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  }
  header {
    display: flex; align-items: center; justify-content: space-between; gap: 12px;
    padding: 10px 18px; background: var(--panel); border-bottom: 1px solid var(--border);
  }
  h1 { margin: 0; font-size: 17px; font-weight: 650; }
  h1 span { color: var(--muted); font-weight: 400; font-size: 14px; margin-left: 6px; }
  .status { display: flex; align-items: center; gap: 7px; font-size: 13px; color: var(--muted); }
  .status .dot { width: 9px; height: 9px; border-radius: 50%; background: var(--warn); }
  .status.online .dot { background: var(--ok); }
  .status.offline .dot { background: var(--no); }
  #log { flex: 1; overflow-y: auto; padding: 18px; display: flex; flex-direction: column; gap: 10px; }
  .empty { margin: auto; color: var(--muted); text-align: center; max-width: 420px; }
  .msg {
    max-width: min(75%, 680px); padding: 7px 12px 9px; border-radius: 16px;
    box-shadow: 0 1px 2px rgba(0, 0, 0, .06);
  }
  .msg.user { align-self: flex-end; background: var(--you); color: var(--you-text); border-bottom-right-radius: 5px; }
  .msg.assistant { align-self: flex-start; background: var(--panel); border: 1px solid var(--border); border-bottom-left-radius: 5px; }
  .msg .meta { display: flex; gap: 8px; align-items: baseline; font-size: 12px; opacity: .75; margin-bottom: 1px; }
  .msg .who { font-weight: 600; }
  .msg .text { white-space: pre-wrap; overflow-wrap: anywhere; }
  .msg .edited { font-size: 12px; opacity: .7; font-style: italic; }
  .msg .reply-to {
    font-size: 12.5px; opacity: .8; border-left: 3px solid currentColor; padding: 1px 0 1px 7px; margin: 3px 0 5px;
    white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  }
  .msg .note { font-size: 12px; opacity: .8; margin-top: 3px; font-style: italic; }
  .files { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 6px; margin-top: 6px; }
  .file {
    display: inline-flex; flex-direction: column; gap: 4px; max-width: 260px; padding: 6px 9px;
    border-radius: 10px; border: 1px solid rgba(127, 127, 127, .3); background: rgba(127, 127, 127, .08);
    color: inherit; text-decoration: none; font-size: 13.5px; overflow-wrap: anywhere;
  }
  a.file:hover { background: rgba(127, 127, 127, .16); }
  .file .size { opacity: .65; font-size: 12px; }
  .file img { display: block; max-width: 240px; max-height: 180px; border-radius: 6px; }
  .perm {
    align-self: center; width: min(94%, 560px); padding: 12px 14px; border-radius: 12px;
    background: #fffbeb; border: 1px solid #f59e0b;
  }
  .perm.allowed { background: #f0fdf4; border-color: var(--ok); }
  .perm.denied { background: #fef2f2; border-color: var(--no); }
  .perm .label {
    display: inline-block; margin-right: 6px; padding: 1px 7px; border-radius: 6px; background: #f59e0b; color: #fff;
    font-size: 11px; font-weight: 700; letter-spacing: .04em; text-transform: uppercase; vertical-align: 1px;
  }
  .perm.allowed .label { background: var(--ok); }
  .perm.denied .label { background: var(--no); }
  .perm .title { font-weight: 600; }
  .perm .tool { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  .perm .description { margin-top: 2px; }
  .perm pre {
    margin: 8px 0; padding: 8px 10px; border-radius: 8px; background: #1f2937; color: #e5e7eb;
    font-size: 12.5px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 180px; overflow: auto;
  }
  .perm .actions { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin-top: 8px; }
  .perm .hint { color: var(--muted); font-size: 12.5px; }
  .perm .outcome { font-weight: 600; }
  .perm.allowed .outcome { color: var(--ok); }
  .perm.denied .outcome { color: var(--no); }
  button { font: inherit; border: 0; border-radius: 9px; padding: 7px 16px; cursor: pointer; }
  button:disabled { opacity: .5; cursor: default; }
  button.allow { background: var(--ok); color: #fff; }
  button.deny { background: var(--no); color: #fff; }
  form { background: var(--panel); border-top: 1px solid var(--border); padding: 10px 14px 12px; }
  .row { display: flex; align-items: flex-end; gap: 8px; }
  .pick { display: flex; cursor: pointer; padding: 7px; border-radius: 50%; color: var(--muted); }
  .pick:hover { background: var(--bg); color: var(--text); }
  #composer {
    flex: 1; resize: none; font: inherit; color: inherit; background: var(--bg); max-height: 200px;
    padding: 9px 12px; border: 1px solid var(--border); border-radius: 12px; outline: none;
  }
  #composer:focus { border-color: var(--you); background: var(--panel); }
  #send { background: var(--you); color: #fff; padding: 9px 18px; }
  #chosen {
    display: inline-flex; align-items: center; gap: 6px; margin-bottom: 8px; padding: 3px 4px 3px 10px;
    border-radius: 8px; background: var(--bg); font-size: 13px;
  }
  #chosen button { background: none; padding: 0 6px; font-size: 16px; color: var(--muted); }
  #error { color: var(--no); font-size: 13px; margin-top: 6px; }
</style>
</head>
<body>
<header>
  <h1>fakechat<span>a chat with your Claude Code session</span></h1>
  <div id="status" class="status"><span class="dot"></span><span id="status-text">connecting…</span></div>
</header>
<main id="log" aria-live="polite"></main>
<form id="form" autocomplete="off">
  <div id="chosen" hidden><span id="chosen-name"></span><button type="button" id="unpick" title="Remove the file">×</button></div>
  <div class="row">
    <label class="pick" for="file" title="Attach a file" aria-label="Attach a file">
      <svg width="22" height="22" viewBox="0 0 22 22" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
        <circle cx="11" cy="11" r="9"/><path d="M11 7v8M7 11h8"/>
      </svg>
    </label>
    <input type="file" id="file" hidden>
    <textarea id="composer" rows="1" placeholder="Message Claude (Enter sends, Shift+Enter for a new line)"></textarea>
    <button type="submit" id="send">Send</button>
  </div>
  <div id="error" role="alert" hidden></div>
</form>
<script nonce="${nonce}">
(function () {
  'use strict';
  var MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
  var IMAGE_URL = /\.(png|jpe?g|gif|webp)$/;
  var log = document.getElementById('log');
  var form = document.getElementById('form');
  var composer = document.getElementById('composer');
  var sendButton = document.getElementById('send');
  var fileInput = document.getElementById('file');
  var chosen = document.getElementById('chosen');
  var chosenName = document.getElementById('chosen-name');
  var errorBox = document.getElementById('error');
  var statusBox = document.getElementById('status');
  var statusText = document.getElementById('status-text');
  var socket = null;
  var retryMs = 500;
  var sentCount = 0;
  var uploading = false;
  // Rendered messages by from + ':' + id, and permission cards by request id.
  var messages = new Map();
  var permissions = new Map();

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clock(ts) {
    return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + ' KB';
    return (bytes / 1024 / 1024).toFixed(1) + ' MB';
  }

  function append(node) {
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    var empty = log.querySelector('.empty');
    if (empty) empty.remove();
    log.appendChild(node);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function showEmpty() {
    log.appendChild(el('div', 'empty', 'Say hi. What you send here arrives in your Claude Code session, and Claude answers here.'));
  }

  function renderAttachment(file) {
    if (!file.url) {
      var chip = el('span', 'file', file.name);
      chip.appendChild(el('span', 'size', size(file.size)));
      return chip;
    }
    var link = el('a', 'file');
    link.href = file.url;
    link.download = file.name;
    link.title = 'Download ' + file.name;
    if (IMAGE_URL.test(file.url)) {
      var image = el('img');
      image.src = file.url;
      image.alt = file.name;
      link.appendChild(image);
    }
    link.appendChild(el('span', 'name', '⬇ ' + file.name));
    link.appendChild(el('span', 'size', size(file.size)));
    return link;
  }

  function quoteOf(id) {
    var target = messages.get('user:' + id) || messages.get('assistant:' + id);
    if (!target) return 'message ' + id;
    var text = target.item.text || (target.item.files[0] ? target.item.files[0].name : '');
    return text.length > 40 ? text.slice(0, 40) + '…' : text;
  }

  function renderMessage(item) {
    var node = el('div', 'msg ' + (item.from === 'assistant' ? 'assistant' : 'user'));
    node.dataset.id = item.id;
    var meta = el('div', 'meta');
    meta.appendChild(el('span', 'who', item.from === 'assistant' ? 'Claude' : 'You'));
    meta.appendChild(el('span', 'time', clock(item.ts)));
    if (item.edited) meta.appendChild(el('span', 'edited', '(edited)'));
    node.appendChild(meta);
    if (item.replyTo) node.appendChild(el('div', 'reply-to', '↳ ' + quoteOf(item.replyTo)));
    if (item.text) node.appendChild(el('div', 'text', item.text));
    if (item.files.length) {
      var files = el('div', 'files');
      item.files.forEach(function (file) { files.appendChild(renderAttachment(file)); });
      node.appendChild(files);
    }
    if (item.answers) node.appendChild(el('div', 'note', 'answers permission request ' + item.answers + ' (not sent to Claude)'));
    return node;
  }

  function showMessage(item) {
    var key = item.from + ':' + item.id;
    var node = renderMessage(item);
    var known = messages.get(key);
    if (known) known.node.replaceWith(node); else append(node);
    messages.set(key, { item: item, node: node });
  }

  function applyEdit(frame) {
    var known = messages.get('assistant:' + frame.id);
    if (!known) return;
    known.item.text = frame.text;
    known.item.edited = true;
    showMessage(known.item);
  }

  function answer(requestId, behavior, card) {
    if (!socket) { showError('Not connected: answer again once the page has reconnected.'); return; }
    card.querySelectorAll('button').forEach(function (button) { button.disabled = true; });
    socket.send(JSON.stringify({ type: 'verdict', request_id: requestId, behavior: behavior }));
  }

  function renderPermission(item) {
    var card = el('div', 'perm ' + item.state);
    card.dataset.requestId = item.request_id;
    var title = el('div', 'title');
    title.appendChild(el('span', 'label', 'Permission'));
    title.appendChild(document.createTextNode('Claude wants to use '));
    title.appendChild(el('span', 'tool', item.tool_name));
    card.appendChild(title);
    if (item.description) card.appendChild(el('div', 'description', item.description));
    if (item.input_preview) card.appendChild(el('pre', 'input', item.input_preview));
    var actions = el('div', 'actions');
    if (item.state === 'open') {
      [['allow', 'Allow'], ['deny', 'Deny']].forEach(function (choice) {
        var button = el('button', choice[0], choice[1]);
        button.type = 'button';
        button.addEventListener('click', function () { answer(item.request_id, choice[0], card); });
        actions.appendChild(button);
      });
      actions.appendChild(el('span', 'hint', 'or type: yes ' + item.request_id + ' / no ' + item.request_id));
    } else {
      actions.appendChild(el('span', 'outcome', item.state === 'allowed' ? '✓ Allowed' : '✗ Denied'));
    }
    card.appendChild(actions);
    return card;
  }

  function showPermission(item) {
    var card = renderPermission(item);
    var known = permissions.get(item.request_id);
    if (known) known.replaceWith(card); else append(card);
    permissions.set(item.request_id, card);
  }

  function show(item) {
    if (item.type === 'msg') showMessage(item);
    else if (item.type === 'permission') showPermission(item);
  }

  function onFrame(frame) {
    if (frame.type === 'history') {
      log.textContent = '';
      messages.clear();
      permissions.clear();
      if (frame.items.length === 0) showEmpty();
      frame.items.forEach(show);
      log.scrollTop = log.scrollHeight;
    } else if (frame.type === 'edit') {
      applyEdit(frame);
    } else {
      show(frame);
    }
  }

  function setStatus(state, text) {
    statusBox.className = 'status ' + state;
    statusText.textContent = text;
  }

  function connect() {
    var ws = new WebSocket('ws://' + location.host + '/ws');
    ws.onopen = function () {
      socket = ws;
      retryMs = 500;
      setStatus('online', 'connected');
    };
    ws.onmessage = function (event) {
      try { onFrame(JSON.parse(event.data)); } catch (err) { console.error('bad frame', err); }
    };
    ws.onclose = function () {
      if (socket === ws) socket = null;
      setStatus('offline', 'disconnected, reconnecting…');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function pickedFile() {
    return fileInput.files && fileInput.files[0] ? fileInput.files[0] : null;
  }

  function showPicked() {
    var file = pickedFile();
    chosen.hidden = !file;
    chosenName.textContent = file ? file.name + ' (' + size(file.size) + ')' : '';
  }

  function clearComposer() {
    composer.value = '';
    fileInput.value = '';
    showPicked();
    fitComposer();
  }

  function fitComposer() {
    composer.style.height = 'auto';
    composer.style.height = Math.min(composer.scrollHeight + 2, 200) + 'px';
  }

  function nextId() {
    sentCount += 1;
    return 'u' + Date.now() + '-' + sentCount;
  }

  function upload(id, text, file) {
    if (file.size > MAX_UPLOAD_BYTES) { showError(file.name + ' is larger than 50 MB.'); return; }
    var body = new FormData();
    body.append('id', id);
    body.append('text', text);
    body.append('file', file, file.name);
    uploading = true;
    sendButton.disabled = true;
    fetch('/upload', { method: 'POST', body: body })
      .then(function (response) {
        if (response.ok) { clearComposer(); return; }
        return response.text().then(function (reason) { showError('Upload failed: ' + reason); });
      })
      .catch(function (err) { showError('Upload failed: ' + err.message); })
      .then(function () { uploading = false; sendButton.disabled = false; });
  }

  function send() {
    var text = composer.value;
    var file = pickedFile();
    if (uploading || (!file && !text.trim())) return;
    showError('');
    if (file) { upload(nextId(), text, file); return; }
    if (!socket) { showError('Not connected: your message is kept; send it again once the page has reconnected.'); return; }
    socket.send(JSON.stringify({ type: 'send', id: nextId(), text: text }));
    clearComposer();
  }

  form.addEventListener('submit', function (event) { event.preventDefault(); send(); });
  composer.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
  });
  composer.addEventListener('input', fitComposer);
  fileInput.addEventListener('change', showPicked);
  document.getElementById('unpick').addEventListener('click', function () { fileInput.value = ''; showPicked(); });
  connect();
  composer.focus();
})();
</script>
</body>
</html>
`;
}
