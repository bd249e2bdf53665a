// raqib console: the three languages of the command rooms. Arabic is written right to left;
// plates are always shown in their written order (see `plate` in app.js). Every string the
// console shows comes from here: `t(key, values)` in code, `data-i18n` / `data-i18n-ph` in HTML.
"use strict";

const LANGS = {
  en: { name: "English", dir: "ltr", locale: "en-GB" },
  fr: { name: "Français", dir: "ltr", locale: "fr-MA" },
  // Morocco writes Arabic with Latin digits (ar-MA), as on its plates.
  ar: { name: "العربية", dir: "rtl", locale: "ar-MA" },
};

const STRINGS = {
  en: {
    "face.stranger": "1 in {n} strangers would match this well", "face.stranger.rare": "fewer than 1 in a million strangers would match this well",
    "hub.title": "raqib national hub", "nav.nodes": "Nodes", "nav.entries": "National watchlist", "col.node": "node",
    "node.online": "online", "node.offline": "offline",
    "node.meta": "last heard {t} · {c} camera(s), {s} streaming · {h} alert(s)", "search.hits": "Alerts of every node",
    "entries.applied": "{n} of {m} nodes", "entries.critical": "critical (missing child): nodes apply it first",
    "col.applied": "applied", "col.version": "version", "hub.retro": "retro-hit at the hub", "hub.received": "received",
    title: "raqib console", "nav.alerts": "Alerts", "nav.cameras": "Cameras", "nav.search": "Search",
    "nav.watchlist": "Watchlist", "nav.audit": "Audit", logout: "Log out", "login.title": "Log in",
    "login.user": "User", "login.password": "Password", "login.go": "Log in", "login.again": "log in again",
    language: "Language", camera: "Camera", category: "Category", state: "State", all: "all", filter: "Filter",
    "state.new": "new", "state.acknowledged": "acknowledged", "state.escalated": "escalated",
    "state.confirmed": "confirmed", "state.rejected": "rejected",
    "priority.critical": "critical", "priority.high": "high", "priority.medium": "medium", "priority.low": "low",
    "kind.plate": "Plate on watchlist", "kind.face": "Person on watchlist", priority: "priority", entry: "entry",
    "match.exact": "exact", "match.fuzzy": "fuzzy", "match.wildcard": "wildcard", "match.face": "face",
    "match.not_on_allow_list": "not on the allow-list",
    "location.unknown": "location unknown", "full.frame": "full frame", "export.evidence": "export evidence", "enrol.sighting": "add this face to the person's photos", "enrol.reason": "Why add this sighting's face to the person's enrolled photos? (audited)", "enrol.done": "Added to the person's enrolled faces.",
    "export.reason": "Reason for exporting this alert's evidence (case reference):", comment: "comment",
    acknowledge: "Acknowledge", escalate: "Escalate", confirm: "Confirm", reject: "Reject", details: "Details",
    "reject.reason": "reason", "due.in": "decide within {t}", "overdue.by": "OVERDUE by {t}", "decided": "decided",
    retro: "retro-hit: seen {t}, before the entry was listed", repeats: "seen {n} more time(s), last {t}",
    covert: "covert list {l}", "live.up": "live", "live.down": "reconnecting…",
    "store.fault": "Events store failing: {w} outcome(s) waiting to be stored ({h} hit(s)), {dh} hit(s) and {dr} read(s) lost{e}. Alerts still arrive live.",
    "camera.meta": "{fps} fps in · analysed {a} · dropped {d} · reconnects {r}",
    "camera.state.streaming": "streaming", "camera.state.connecting": "connecting", "camera.state.reconnecting": "reconnecting",
    "camera.state.stopped": "stopped", "camera.state.failed": "failed",
    "search.reads": "Plate reads", "search.plate.ph": "12345-ب-6, 12345-B-6, 12*6", "search.exact": "exact (any spelling)",
    "search.fuzzy": "fuzzy (OCR confusions)", "search.wildcard": "wildcard (* ?)", "reason.ph": "reason / case reference",
    "search.go": "Search", "search.face": "Face photo", "col.crop": "crop", "col.plate": "plate", "col.camera": "camera",
    "col.seen": "seen", "col.confidence": "confidence", "col.distance": "distance", "col.hit": "hit", yes: "yes",
    "face.none": "No enrolled person matches.", "face.matches": "Matches: {m}",
    "wl.plates": "Plates", "wl.persons": "Persons", "wl.plate.ph": "plate", "wl.category.ph": "category (stolen, warrant, …)",
    "wl.default": "category default", "wl.case.ph": "case reference", "wl.covert.ph": "covert list (optional)", "wl.expires.ph": "expires YYYY-MM-DD", "wl.add": "Add",
    "wl.name.ph": "name", "wl.pcategory.ph": "category (wanted, missing-child, …)", "wl.enrol": "Enrol",
    "col.category": "category", "col.priority": "priority", "col.case": "case", "col.expires": "expires", "col.name": "name",
    "col.scope": "scope", remove: "Remove", "remove.reason": "Reason for removing this entry (case reference):",
    "col.time": "time", "col.actor": "actor", "col.action": "action", "col.target": "target", "col.reason": "reason",
    "col.detail": "detail", "col.comment": "comment",
    "detail.title": "Alert {id}", "detail.back": "Back to alerts", "detail.history": "History",
    "detail.entry": "Watchlist entry as it was when the hit was raised", "detail.map": "map", "detail.raised": "raised",
    "detail.seen": "seen", "detail.due": "due",
    "action.acknowledge": "acknowledged", "action.escalate": "escalated", "action.confirm": "confirmed",
    "action.reject": "rejected", "action.overdue": "overdue",
    "reason.misread": "misread", "reason.wrong_vehicle": "wrong vehicle", "reason.entry_out_of_date": "entry out of date",
    "reason.duplicate": "duplicate", "reason.test": "test",
  },
  fr: {
    "face.stranger": "1 inconnu sur {n} ressemblerait autant", "face.stranger.rare": "moins d’un inconnu sur un million ressemblerait autant",
    "hub.title": "raqib — centre national", "nav.nodes": "Nœuds", "nav.entries": "Liste nationale", "col.node": "nœud",
    "node.online": "en ligne", "node.offline": "hors ligne",
    "node.meta": "dernier contact {t} · {c} caméra(s), {s} en flux · {h} alerte(s)", "search.hits": "Alertes de tous les nœuds",
    "entries.applied": "{n} nœud(s) sur {m}", "entries.critical": "critique (enfant disparu) : appliquée en premier par les nœuds",
    "col.applied": "appliquée", "col.version": "version", "hub.retro": "alerte rétroactive du centre", "hub.received": "reçue",
    title: "console raqib", "nav.alerts": "Alertes", "nav.cameras": "Caméras", "nav.search": "Recherche",
    "nav.watchlist": "Liste de surveillance", "nav.audit": "Journal d'audit", logout: "Se déconnecter",
    "login.title": "Connexion", "login.user": "Utilisateur", "login.password": "Mot de passe", "login.go": "Se connecter",
    "login.again": "reconnectez-vous", language: "Langue", camera: "Caméra", category: "Catégorie", state: "État",
    all: "toutes", filter: "Filtrer",
    "state.new": "nouvelle", "state.acknowledged": "prise en compte", "state.escalated": "transmise",
    "state.confirmed": "confirmée", "state.rejected": "rejetée",
    "priority.critical": "critique", "priority.high": "haute", "priority.medium": "moyenne", "priority.low": "basse",
    "kind.plate": "Plaque sur liste", "kind.face": "Personne sur liste", priority: "priorité", entry: "fiche",
    "match.exact": "exacte", "match.fuzzy": "approchée", "match.wildcard": "joker", "match.face": "visage",
    "match.not_on_allow_list": "hors liste autorisée",
    "location.unknown": "position inconnue", "full.frame": "image entière", "export.evidence": "exporter les preuves", "enrol.sighting": "ajouter ce visage aux photos de la personne", "enrol.reason": "Pourquoi ajouter le visage de cette observation aux photos de la personne ? (journalisé)", "enrol.done": "Ajouté aux visages enrôlés de la personne.",
    "export.reason": "Motif de l'export des preuves de cette alerte (référence du dossier) :", comment: "commentaire",
    acknowledge: "Prendre en compte", escalate: "Transmettre", confirm: "Confirmer", reject: "Rejeter", details: "Détails",
    "reject.reason": "motif", "due.in": "à traiter sous {t}", "overdue.by": "EN RETARD de {t}", decided: "traitée",
    retro: "alerte rétroactive : vue le {t}, avant l'inscription", repeats: "revue {n} fois, dernière le {t}",
    covert: "liste confidentielle {l}", "live.up": "en direct", "live.down": "reconnexion…",
    "store.fault": "Base des événements en panne : {w} résultat(s) en attente ({h} alerte(s)), {dh} alerte(s) et {dr} lecture(s) perdues{e}. Les alertes arrivent toujours en direct.",
    "camera.meta": "{fps} im/s reçues · {a} analysées · {d} abandonnées · {r} reconnexions",
    "camera.state.streaming": "en flux", "camera.state.connecting": "connexion", "camera.state.reconnecting": "reconnexion",
    "camera.state.stopped": "arrêtée", "camera.state.failed": "en échec",
    "search.reads": "Lectures de plaques", "search.plate.ph": "12345-ب-6, 12345-B-6, 12*6",
    "search.exact": "exacte (toute graphie)", "search.fuzzy": "approchée (confusions OCR)", "search.wildcard": "joker (* ?)",
    "reason.ph": "motif / référence du dossier", "search.go": "Rechercher", "search.face": "Photo de visage",
    "col.crop": "vignette", "col.plate": "plaque", "col.camera": "caméra", "col.seen": "vue le", "col.confidence": "confiance",
    "col.distance": "distance", "col.hit": "alerte", yes: "oui",
    "face.none": "Aucune personne inscrite ne correspond.", "face.matches": "Correspondances : {m}",
    "wl.plates": "Plaques", "wl.persons": "Personnes", "wl.plate.ph": "plaque", "wl.category.ph": "catégorie (vol, mandat, …)",
    "wl.default": "priorité de la catégorie", "wl.case.ph": "référence du dossier", "wl.covert.ph": "liste confidentielle (facultatif)", "wl.expires.ph": "expire AAAA-MM-JJ",
    "wl.add": "Ajouter", "wl.name.ph": "nom", "wl.pcategory.ph": "catégorie (recherché, enfant disparu, …)", "wl.enrol": "Inscrire",
    "col.category": "catégorie", "col.priority": "priorité", "col.case": "dossier", "col.expires": "expire", "col.name": "nom",
    "col.scope": "portée", remove: "Retirer", "remove.reason": "Motif du retrait de cette fiche (référence du dossier) :",
    "col.time": "heure", "col.actor": "auteur", "col.action": "action", "col.target": "objet", "col.reason": "motif",
    "col.detail": "détail", "col.comment": "commentaire",
    "detail.title": "Alerte {id}", "detail.back": "Retour aux alertes", "detail.history": "Historique",
    "detail.entry": "Fiche telle qu'elle était au déclenchement", "detail.map": "carte", "detail.raised": "déclenchée",
    "detail.seen": "vue", "detail.due": "échéance",
    "action.acknowledge": "prise en compte", "action.escalate": "transmise", "action.confirm": "confirmée",
    "action.reject": "rejetée", "action.overdue": "en retard",
    "reason.misread": "erreur de lecture", "reason.wrong_vehicle": "mauvais véhicule", "reason.entry_out_of_date": "fiche périmée",
    "reason.duplicate": "doublon", "reason.test": "essai",
  },
  ar: {
    "face.stranger": "شخص غريب واحد من كل {n} يطابق بهذه الدرجة", "face.stranger.rare": "أقل من غريب واحد في المليون يطابق بهذه الدرجة",
    "hub.title": "راقب — المركز الوطني", "nav.nodes": "العُقد", "nav.entries": "القائمة الوطنية", "col.node": "العقدة",
    "node.online": "متصلة", "node.offline": "غير متصلة",
    "node.meta": "آخر اتصال {t} · {c} كاميرا، {s} تبث · {h} تنبيه", "search.hits": "تنبيهات جميع العقد",
    "entries.applied": "{n} من {m} عقدة", "entries.critical": "حرجة (طفل مفقود): تطبقها العقد أولاً",
    "col.applied": "طُبِّقت", "col.version": "الإصدار", "hub.retro": "تنبيه بأثر رجعي من المركز", "hub.received": "وصل",
    title: "منصة رقيب", "nav.alerts": "التنبيهات", "nav.cameras": "الكاميرات", "nav.search": "البحث",
    "nav.watchlist": "قائمة المراقبة", "nav.audit": "سجل التدقيق", logout: "تسجيل الخروج", "login.title": "تسجيل الدخول",
    "login.user": "المستخدم", "login.password": "كلمة المرور", "login.go": "دخول", "login.again": "سجّل الدخول من جديد",
    language: "اللغة", camera: "الكاميرا", category: "الفئة", state: "الحالة", all: "الكل", filter: "تصفية",
    "state.new": "جديد", "state.acknowledged": "قيد المعالجة", "state.escalated": "مُحال", "state.confirmed": "مؤكَّد",
    "state.rejected": "مرفوض",
    "priority.critical": "حرجة", "priority.high": "عالية", "priority.medium": "متوسطة", "priority.low": "منخفضة",
    "kind.plate": "لوحة في قائمة المراقبة", "kind.face": "شخص في قائمة المراقبة", priority: "الأولوية", entry: "القيد",
    "match.exact": "مطابقة تامة", "match.fuzzy": "مطابقة تقريبية", "match.wildcard": "نمط", "match.face": "وجه",
    "match.not_on_allow_list": "خارج قائمة السماح",
    "location.unknown": "الموقع غير معروف", "full.frame": "الصورة كاملة", "export.evidence": "تصدير الأدلة", "enrol.sighting": "إضافة هذا الوجه إلى صور الشخص", "enrol.reason": "لماذا تضاف صورة وجه هذه المشاهدة إلى صور الشخص المسجلة؟ (يُسجَّل في سجل التدقيق)", "enrol.done": "أضيف إلى الوجوه المسجلة للشخص.",
    "export.reason": "سبب تصدير أدلة هذا التنبيه (مرجع الملف):", comment: "ملاحظة",
    acknowledge: "استلام", escalate: "إحالة", confirm: "تأكيد", reject: "رفض", details: "التفاصيل",
    "reject.reason": "السبب", "due.in": "يُعالج خلال {t}", "overdue.by": "متأخر بـ {t}", decided: "تمت المعالجة",
    retro: "تنبيه بأثر رجعي: شوهدت في {t} قبل إدراجها", repeats: "شوهدت {n} مرة أخرى، آخرها {t}",
    covert: "قائمة سرية {l}", "live.up": "مباشر", "live.down": "جارٍ إعادة الاتصال…",
    "store.fault": "تعطل مخزن الأحداث: {w} نتيجة بانتظار الحفظ ({h} تنبيه)، فُقد {dh} تنبيه و{dr} قراءة{e}. التنبيهات المباشرة مستمرة.",
    "camera.meta": "{fps} إطار/ث · حُلّل {a} · أُسقط {d} · إعادة اتصال {r}",
    "camera.state.streaming": "تبث", "camera.state.connecting": "جارٍ الاتصال", "camera.state.reconnecting": "إعادة الاتصال",
    "camera.state.stopped": "متوقفة", "camera.state.failed": "معطلة",
    "search.reads": "قراءات اللوحات", "search.plate.ph": "12345-ب-6, 12345-B-6, 12*6", "search.exact": "تامة (بأي كتابة)",
    "search.fuzzy": "تقريبية (أخطاء القراءة)", "search.wildcard": "نمط (* ?)", "reason.ph": "السبب / مرجع الملف",
    "search.go": "بحث", "search.face": "صورة وجه", "col.crop": "الصورة", "col.plate": "اللوحة", "col.camera": "الكاميرا",
    "col.seen": "شوهدت", "col.confidence": "الثقة", "col.distance": "المسافة", "col.hit": "تنبيه", yes: "نعم",
    "face.none": "لا يطابق أي شخص مسجل.", "face.matches": "المطابقات: {m}",
    "wl.plates": "اللوحات", "wl.persons": "الأشخاص", "wl.plate.ph": "اللوحة", "wl.category.ph": "الفئة (مسروقة، مذكرة، …)",
    "wl.default": "أولوية الفئة", "wl.case.ph": "مرجع الملف", "wl.covert.ph": "قائمة سرية (اختياري)", "wl.expires.ph": "تنتهي YYYY-MM-DD", "wl.add": "إضافة",
    "wl.name.ph": "الاسم", "wl.pcategory.ph": "الفئة (مطلوب، طفل مفقود، …)", "wl.enrol": "تسجيل",
    "col.category": "الفئة", "col.priority": "الأولوية", "col.case": "الملف", "col.expires": "تنتهي", "col.name": "الاسم",
    "col.scope": "النطاق", remove: "حذف", "remove.reason": "سبب حذف هذا القيد (مرجع الملف):",
    "col.time": "الوقت", "col.actor": "المستخدم", "col.action": "الإجراء", "col.target": "الهدف", "col.reason": "السبب",
    "col.detail": "التفاصيل", "col.comment": "ملاحظة",
    "detail.title": "التنبيه {id}", "detail.back": "العودة إلى التنبيهات", "detail.history": "السجل",
    "detail.entry": "القيد كما كان عند التنبيه", "detail.map": "الخريطة", "detail.raised": "أُطلق",
    "detail.seen": "شوهدت", "detail.due": "المهلة",
    "action.acknowledge": "استلام", "action.escalate": "إحالة", "action.confirm": "تأكيد", "action.reject": "رفض",
    "action.overdue": "تأخر",
    "reason.misread": "قراءة خاطئة", "reason.wrong_vehicle": "مركبة أخرى", "reason.entry_out_of_date": "قيد منتهي",
    "reason.duplicate": "مكرر", "reason.test": "اختبار",
  },
};

const i18n = { lang: "en" };

// The language to start with: the user's remembered one, else the browser's, else English.
function initialLanguage(remembered) {
  if (remembered && LANGS[remembered]) return remembered;
  const nav = (navigator.language || "en").slice(0, 2);
  return LANGS[nav] ? nav : "en";
}

// `t("due.in", { t: "4:59" })`: the string in the current language (English when missing).
function t(key, values) {
  let s = (STRINGS[i18n.lang] && STRINGS[i18n.lang][key]) || STRINGS.en[key] || key;
  for (const [k, v] of Object.entries(values || {})) s = s.split(`{${k}}`).join(String(v));
  return s;
}

// A value's translation when there is one (states, priorities, reasons), else the value itself.
const tv = (prefix, value) => (STRINGS.en[`${prefix}.${value}`] ? t(`${prefix}.${value}`) : String(value));

function locale() { return LANGS[i18n.lang].locale; }

function formatTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "medium" }).format(new Date(iso));
}

function formatNumber(n, digits) {
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0 }).format(n);
}

// Sets the page's language and direction and translates every marked element.
function applyLanguage(lang) {
  i18n.lang = LANGS[lang] ? lang : "en";
  document.documentElement.lang = i18n.lang;
  document.documentElement.dir = LANGS[i18n.lang].dir;
  document.title = t("title");
  document.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
  document.querySelectorAll("[data-i18n-ph]").forEach((e) => { e.placeholder = t(e.dataset.i18nPh); });
}
