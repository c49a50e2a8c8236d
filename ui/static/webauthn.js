// Gatehouse: the browser half of security keys and passkeys (W3C Web
// Authentication). A form marked data-webauthn carries, in data-options,
// the options the server made for one ceremony. On submit this script asks
// the browser for the key and posts its answer in the form's "response"
// field, as a normal form. "create" adds a key, "get" uses one after the
// password, and "passkey" signs in with a passkey alone; that one is also
// offered in the email field's autofill where the browser can.
(function () {
  "use strict";

  var messages = {
    NotAllowedError: "The request was cancelled or timed out. Try again, or use another way below.",
    AbortError: "The request was cancelled. Try again.",
    InvalidStateError: "This key is already registered to your account. Use another one.",
    NotSupportedError: "This browser or key cannot do what this page asks. Try another key or browser.",
    SecurityError: "This page's address does not allow security keys. Ask your administrator.",
    unsupported: "This browser does not support security keys or passkeys. Use another way below, or another browser.",
    other: "Something went wrong with your key. Try again, or use another way below."
  };

  function fromBase64url(s) {
    var b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) {
      out[i] = b.charCodeAt(i);
    }
    return out.buffer;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIDs(list) {
    return (list || []).map(function (c) {
      return { type: c.type, id: fromBase64url(c.id), transports: c.transports };
    });
  }

  // options turns the server's JSON into what navigator.credentials takes.
  function options(form) {
    var o = JSON.parse(form.getAttribute("data-options")), pk = o.publicKey;
    pk.challenge = fromBase64url(pk.challenge);
    if (pk.user) {
      pk.user.id = fromBase64url(pk.user.id);
    }
    if (pk.excludeCredentials) {
      pk.excludeCredentials = withIDs(pk.excludeCredentials);
    }
    if (pk.allowCredentials) {
      pk.allowCredentials = withIDs(pk.allowCredentials);
    }
    return pk;
  }

  // encode is the credential as JSON, as the server reads it.
  function encode(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    if (r.attestationObject) {
      out.response.attestationObject = toBase64url(r.attestationObject);
      if (r.getTransports) {
        out.response.transports = r.getTransports();
      }
    } else {
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toBase64url(r.userHandle);
      }
    }
    return JSON.stringify(out);
  }

  function showError(form, name) {
    var el = form.querySelector("[data-webauthn-error]");
    if (!el) {
      return;
    }
    el.textContent = messages[name] || messages.other;
    el.hidden = false;
  }

  function send(form, cred) {
    form.elements.response.value = encode(cred);
    form.submit();
  }

  var autofill = null; // the passkey autofill waiting, if any

  function run(form) {
    var mode = form.getAttribute("data-webauthn");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      showError(form, "unsupported");
      return;
    }
    if (autofill) {
      autofill.abort();
      autofill = null;
    }
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
    var ask = mode === "create" ?
      navigator.credentials.create({ publicKey: options(form) }) :
      navigator.credentials.get({ publicKey: options(form) });
    ask.then(function (cred) {
      if (!cred) {
        throw { name: "NotAllowedError" };
      }
      send(form, cred);
    }).catch(function (err) {
      if (button) {
        button.disabled = false;
      }
      showError(form, err && err.name);
    });
  }

  // offerAutofill lets the browser list passkeys in the email field's
  // suggestions (conditional mediation); picking one signs in.
  function offerAutofill(form) {
    var pkc = window.PublicKeyCredential;
    if (!pkc || !pkc.isConditionalMediationAvailable || !window.AbortController) {
      return;
    }
    pkc.isConditionalMediationAvailable().then(function (ok) {
      if (!ok) {
        return;
      }
      autofill = new AbortController();
      return navigator.credentials.get({ publicKey: options(form), mediation: "conditional", signal: autofill.signal })
        .then(function (cred) {
          if (cred) {
            send(form, cred);
          }
        });
    }).catch(function () {
      // Aborted for the button, or not available: the button remains.
    });
  }

  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      run(form);
    });
    if (form.getAttribute("data-webauthn") === "passkey") {
      offerAutofill(form);
    }
  });
})();
