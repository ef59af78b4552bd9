// The appeal page: the link in a statement of reasons carries its token in
// the fragment (#token), which the browser never sends to a server.
(function () {
  'use strict';
  var TEXT = {
    en: {
      title: 'Appeal a moderation decision', loading: 'Loading…', decision: 'Decision', ground: 'Ground',
      facts: 'Facts and circumstances', automated: 'Automated means', until: 'You may appeal until',
      explain: 'Why is this decision wrong?', send: 'Send the appeal',
      missing: 'This link is incomplete or unknown: open the link from the email again.',
      open: 'A moderator who did not take this decision will review your appeal.',
      closed: 'The time to appeal this decision is over.',
      sent: 'Your appeal was received. The outcome will be sent to you by email.',
      appealed: 'This decision was appealed already. Status: ',
      auto_decision: 'The decision was taken by automated means.',
      auto_detection: 'Automated means detected the comment; a moderator decided.',
      auto_none: 'None: a moderator detected and decided.',
      failed: 'The appeal could not be sent: '
    },
    fr: {
      title: 'Contester une décision de modération', loading: 'Chargement…', decision: 'Décision', ground: 'Motif',
      facts: 'Faits et circonstances', automated: 'Moyens automatisés', until: 'Vous pouvez contester jusqu\u2019au',
      explain: 'Pourquoi cette décision est-elle erronée ?', send: 'Envoyer la réclamation',
      missing: 'Ce lien est incomplet ou inconnu : ouvrez de nouveau le lien du courriel.',
      open: 'Un modérateur qui n\u2019a pas pris cette décision examinera votre réclamation.',
      closed: 'Le délai pour contester cette décision est expiré.',
      sent: 'Votre réclamation a bien été reçue. Le résultat vous sera envoyé par courriel.',
      appealed: 'Cette décision a déjà été contestée. État : ',
      auto_decision: 'La décision a été prise par des moyens automatisés.',
      auto_detection: 'Des moyens automatisés ont détecté le commentaire ; un modérateur a décidé.',
      auto_none: 'Aucun : un modérateur a détecté et décidé.',
      failed: 'La réclamation n\u2019a pas pu être envoyée : '
    }
  };
  var lang = 'en';
  function t(k) { return (TEXT[lang] || TEXT.en)[k]; }
  function $(id) { return document.getElementById(id); }
  function translate() {
    document.documentElement.lang = lang;
    document.title = t('title');
    var els = document.querySelectorAll('[data-t]');
    for (var i = 0; i < els.length; i++) { els[i].textContent = t(els[i].getAttribute('data-t')); }
  }
  var token = location.hash.slice(1);
  var url = '/api/v1/appeals/' + encodeURIComponent(token);
  function show(info) {
    var st = info.statement;
    lang = info.language === 'fr' ? 'fr' : 'en';
    translate();
    $('decision').textContent = info.decision;
    $('ground').textContent = st.ground;
    $('facts').textContent = st.facts;
    $('automated').textContent = st.automated_decision ? t('auto_decision') : st.automated_detection ? t('auto_detection') : t('auto_none');
    $('until').textContent = new Date(st.appeal_until).toLocaleDateString(lang);
    $('statement').hidden = false;
    if (info.appeal) {
      $('status').textContent = t('appealed') + info.appeal.status;
    } else if (info.open) {
      $('status').textContent = t('open');
      $('form').hidden = false;
    } else {
      $('status').textContent = t('closed');
    }
  }
  if (!token) { $('status').textContent = t('missing'); return; }
  fetch(url).then(function (r) {
    if (!r.ok) { throw new Error(r.status); }
    return r.json();
  }).then(show, function () { $('status').textContent = t('missing'); });
  $('form').addEventListener('submit', function (e) {
    e.preventDefault();
    $('error').textContent = '';
    fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({explanation: $('explanation').value})}).then(function (r) {
      return r.json().then(function (b) {
        if (!r.ok) { throw new Error((b.error && b.error.message) || r.status); }
        $('form').hidden = true;
        $('status').textContent = t('sent');
      });
    }).catch(function (err) { $('error').textContent = t('failed') + err.message; });
  });
})();
