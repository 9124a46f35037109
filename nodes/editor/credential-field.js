// The editor's credential fields (callback in's secret; callback out's secret, token and signing
// key): the eye (show / hide) and copy buttons, and a random secret for "generate". Browser code,
// written into each node's .html by scripts/build.js where it says <!-- editor-script: credential-field -->.
(function () {
  var editor = (window.agentCallbackEditor = window.agentCallbackEditor || { properties: {} });

  /** A random secret; for Standard Webhooks a whsec_ key (base64 of 24 bytes), else URL-safe so it pastes anywhere. */
  editor.randomSecret = function (standardWebhooks) {
    var bytes = new Uint8Array(standardWebhooks ? 24 : 32);
    window.crypto.getRandomValues(bytes);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    var b64 = window.btoa(binary);
    return standardWebhooks ? "whsec_" + b64 : b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  /**
   * The eye and copy buttons of a credential field. A saved credential never comes back to the
   * browser (the field holds Node-RED's placeholder), so then there is nothing to show or copy.
   * ids: {input, eye, copy, savedNote} selectors; words: {show, hide} titles and `copied`, the
   * catalog key (with its namespace) of the copy confirmation. Returns {show(clear)}.
   */
  editor.credentialField = function (ids, words) {
    var $input = $(ids.input);
    var $eye = $(ids.eye);
    var $copy = $(ids.copy);
    var saved = function () {
      return $input.val() === "__PWRD__";
    };
    function show(clear) {
      $input.attr("type", clear && !saved() ? "text" : "password");
      $eye.find("i").toggleClass("fa-eye", !clear).toggleClass("fa-eye-slash", !!clear);
      $eye.attr("title", clear ? words.hide : words.show);
      $(ids.savedNote).toggle(!!clear && saved());
    }
    function refresh() {
      $copy.prop("disabled", $input.val() === "" || saved());
      if (saved()) {
        show(false);
      }
    }
    $eye.on("click", function (e) {
      e.preventDefault();
      show($input.attr("type") === "password");
    });
    $copy.on("click", function (e) {
      e.preventDefault();
      RED.clipboard.copyText($input.val(), $copy, words.copied);
    });
    $input.on("change input keyup", refresh);
    refresh();
    return { show: show };
  };
})();
