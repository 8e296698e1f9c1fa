// The in-browser check of an inclusion proof (RFC 9162) and its signed tree head (Ed25519, WebCrypto).
// The same checks as shared/audit/proofs.py and the standalone verifier.py; nothing is sent anywhere.
(function () {
  "use strict";
  var button = document.getElementById("check");
  var data = document.getElementById("proof-bundle");
  var verdict = document.getElementById("verdict");
  if (!button || !data || !verdict) { return; }

  function fromHex(text) {
    if (typeof text !== "string" || text.length % 2 !== 0 || /[^0-9a-f]/.test(text)) { throw new Error("not hex"); }
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(text.substr(i * 2, 2), 16); }
    return out;
  }
  function toHex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function join(parts) {
    var size = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function sha256(bytes) {
    return crypto.subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
  }
  function same(a, b) { return a.length === b.length && a.every(function (x, i) { return x === b[i]; }); }
  var utf8 = new TextEncoder();

  // RFC 9162 2.1.3.2, with arithmetic instead of bit operations (sizes above 2^31 stay exact).
  async function includes(leaf, index, size, path, root) {
    if (!(index >= 0 && index < size)) { throw new Error("the leaf index is not below the tree size"); }
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) { throw new Error("the inclusion path is longer than the tree is deep"); }
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(join([new Uint8Array([1]), path[i], r]));
        if (fn % 2 === 0) {
          while (!(fn % 2 === 1 || fn === 0)) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha256(join([new Uint8Array([1]), r, path[i]]));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) { throw new Error("the inclusion path is shorter than the tree is deep"); }
    if (!same(r, root)) { throw new Error("the inclusion path does not lead to the signed root"); }
  }

  async function check() {
    var bundle = JSON.parse(data.textContent);
    var keyHex = data.getAttribute("data-public-key");
    if (!keyHex) { throw { say: button.getAttribute("data-nokey") }; }
    var publicKey = fromHex(keyHex), head = bundle.head;
    if (toHex(await sha256(publicKey)) !== head.key_id) { throw new Error("the head names another key"); }
    var key;
    try {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      throw { say: button.getAttribute("data-unsupported") };
    }
    var message = utf8.encode([data.getAttribute("data-head-domain"), head.log_id, head.tree_size, head.root_hash,
                               head.timestamp, head.key_id].join("\n"));
    if (!await crypto.subtle.verify({ name: "Ed25519" }, key, fromHex(head.signature), message)) {
      throw new Error("the head's signature does not verify");
    }
    var leaf = await sha256(join([new Uint8Array([0]), utf8.encode(bundle.leaf_input)]));
    await includes(leaf, bundle.leaf_index, head.tree_size, bundle.inclusion_path.map(fromHex), fromHex(head.root_hash));
    if (JSON.parse(bundle.leaf_input).event_id !== bundle.event_id) { throw new Error("the leaf is another event"); }
  }

  button.addEventListener("click", function () {
    verdict.classList.remove("ok", "bad");
    check().then(function () {
      verdict.textContent = button.getAttribute("data-ok");
      verdict.classList.add("ok");
    }, function (error) {
      verdict.textContent = error && error.say ? error.say : button.getAttribute("data-bad") + (error && error.message);
      verdict.classList.add("bad");
    });
  });
})();
