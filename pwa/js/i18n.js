// Interface words in English, Spanish, German and Italian. Clinical text (item
// titles, questions, advice) comes from content/ through the API instead.
import { LAB_WORDS } from "./i18n-labs.js";
import { CARE_WORDS } from "./i18n-care.js";
import { START_WORDS } from "./i18n-start.js";
import { IMPORT_WORDS } from "./i18n-import.js";
import { PATIENT_WORDS } from "./i18n-patient.js";
import { TODAY_WORDS } from "./i18n-today.js";
import { CLL_WORDS } from "./i18n-cll.js";
import { CLINIC_WORDS } from "./i18n-clinic.js";
import { QUEUE_WORDS } from "./i18n-queue.js";
import { READ_MARK_WORDS } from "./i18n-read-marks.js";
import { CLL_SCHEDULE_WORDS } from "./i18n-cll-schedule.js";
import { IMPORT_REFUSAL_WORDS } from "./i18n-import-refusals.js";

export const LANGUAGES = { en: "English", es: "Español", de: "Deutsch", it: "Italiano" };

const UI = {
  en: {
    nav_protocol: "Protocol", sheet_language: "Language of the sheet", sheet_printable: "Printable version to sign", sheet_explain: "Every rule the app computes with, generated from its content files. The printable version ends with a signature block that names this content version.",
    nav_today: "Today", nav_checklist: "Checklist", nav_labs: "Lab results", nav_timeline: "Timeline",
    nav_settings: "Settings", nav_flags: "Flags", nav_patients: "Patients", nav_enrol: "Enrol",
    nav_reminders: "Reminders", logout: "Log out",
    login_title: "Log in", email: "Email", password: "Password", login: "Log in",
    login_failed: "Email or password is wrong.",
    today_title: "Today", due_now: "Due now", running: "Running now", until: "until {date}",
    open_end: "until your team says it can stop", next_blood: "Next blood test", nothing_due: "Nothing is due today.",
    help_title: "Get help now", help_intro: "Call the emergency number at once if you have any of these signs:",
    call_emergency: "Emergency: call {number}", call_team: "Your MS team: {phone}",
    checklist_title: "Monthly checklist", checklist_intro: "Since your last checklist, have you had any of these?",
    yes: "Yes", no: "No", why: "Why we ask", note: "Anything else you want to tell your team? (optional)",
    note_hint: "Your team reads this at your next review, not at once. If something worries you now, call them.",
    send: "Send", sending: "Sending…", saved_offline: "Saved on this phone. It will be sent as soon as you are online.",
    already_sent: "You have already sent this month's checklist. If something worries you, call your MS team.",
    result: "Your result", waiting: "{n} waiting to be sent", rejected: "Could not be sent: {error}",
    labs_title: "Lab results", record_result: "Record a result", taken_on: "Date the sample was taken",
    analyte: "Test", value: "Value", result_saved: "Result saved.", trends: "Trends",
    normal_range: "normal range", your_baseline: "your value before treatment", no_results: "No results yet.",
    timeline_title: "Your timeline", as_list: "List", as_calendar: "Month", previous: "Previous month",
    next: "Next month", status_upcoming: "upcoming", status_due: "due", status_done: "done",
    status_overdue: "overdue", status_missed: "missed",
    settings_title: "Settings", notifications: "Notifications",
    notifications_explain: "Alemtrack can remind you on this phone when a test, the checklist or a medicine is due. By default the lock screen only says that you have a reminder, nothing about your health.",
    notifications_on: "Turn on notifications", notifications_off: "Turn off notifications",
    notifications_enabled: "Notifications are on for this phone.", notifications_blocked: "Notifications are blocked in your browser settings.",
    notifications_unsupported: "This browser cannot show notifications. Use the calendar link below instead.",
    iphone_title: "On an iPhone", iphone_steps: "Open Alemtrack in Safari, tap Share, then “Add to Home Screen”. Open Alemtrack from the home screen and turn on notifications there.",
    calendar: "Calendar", calendar_explain: "Add your reminders to your phone's calendar. The link is private: do not share it.",
    calendar_create: "Make my calendar link", calendar_copy: "Your private calendar link:",
    detailed: "Show what the reminder is about on the lock screen", language: "Language", save: "Save", saved: "Saved.",
    family: "Family", family_explain: "People you invite see your reminders and timeline, never your answers or results.",
    invite: "Invite a family member", invite_code: "Give them this code (valid until {date}):", remove: "Remove",
    no_family: "Nobody yet.", export: "Download my data",
    flags_title: "Flag queue", no_flags: "No open flags.", raised: "raised {ago} ago", open: "Open",
    acknowledge: "Acknowledge", resolve: "Resolve", outcome: "Outcome", note_short: "Note", snooze: "Snooze a question",
    question_code: "Question", snooze_until: "Until", recent_answers: "Recent checklists", recent_results: "Recent results",
    patients_title: "Patients", adherence: "Adherence", overdue_labs: "overdue labs", missed_checklists: "missed checklists",
    unreachable: "no working reminder channel", open_flags: "open flags",
    enrol_title: "Enrol a patient", name: "Name", sex: "Sex", female: "Female", male: "Male", other: "Other",
    childbearing: "Could become pregnant", breastfeeding_label: "Breastfeeding", timezone: "Time zone",
    baseline_platelets: "Platelets before treatment (10⁹/L)", baseline_creatinine: "Creatinine before treatment (µmol/L)",
    enrol: "Enrol", enrolment_code: "Enrolment code for the patient (valid until {date}):",
    record_course: "Record a course", infusions: "Infusion dates", given: "Given", planned: "Planned",
    course_saved: "Course saved.", family_title: "Reminders for {name}",
    update_ready: "A new version of Alemtrack is ready.", update_now: "Update now",
    offline: "You are offline. You see what was saved on this phone.",
    logout_unsent: "Unsent entries on this phone: {n}. Logging out now deletes what has not been sent, and your MS team will not receive it. Log out anyway?", offline_login: "You are offline. Log in again when you are online.", error: "Something went wrong: {message}",
    minutes: "{n} min", hours: "{n} h", days: "{n} days",
  },
  es: {
    nav_protocol: "Protocolo", sheet_language: "Idioma de la hoja", sheet_printable: "Versión imprimible para firmar", sheet_explain: "Todas las reglas con las que calcula la aplicación, generadas a partir de sus archivos de contenido. La versión imprimible termina con un bloque de firma que nombra esta versión del contenido.",
    nav_today: "Hoy", nav_checklist: "Lista de control", nav_labs: "Análisis", nav_timeline: "Calendario",
    nav_settings: "Ajustes", nav_flags: "Avisos", nav_patients: "Pacientes", nav_enrol: "Alta",
    nav_reminders: "Recordatorios", logout: "Cerrar sesión",
    login_title: "Iniciar sesión", email: "Correo electrónico", password: "Contraseña", login: "Entrar",
    login_failed: "El correo o la contraseña no son correctos.",
    today_title: "Hoy", due_now: "Toca ahora", running: "En curso", until: "hasta el {date}",
    open_end: "hasta que su equipo diga que puede parar", next_blood: "Próximo análisis de sangre", nothing_due: "Hoy no toca nada.",
    help_title: "Pida ayuda ahora", help_intro: "Llame al número de emergencias enseguida si tiene alguno de estos signos:",
    call_emergency: "Emergencias: llame al {number}", call_team: "Su equipo de EM: {phone}",
    checklist_title: "Lista de control mensual", checklist_intro: "Desde su última lista, ¿ha tenido algo de esto?",
    yes: "Sí", no: "No", why: "Por qué lo preguntamos", note: "¿Algo más que quiera contar a su equipo? (opcional)",
    note_hint: "Su equipo lo leerá en su próxima revisión, no enseguida. Si algo le preocupa ahora, llame a su equipo.",
    send: "Enviar", sending: "Enviando…", saved_offline: "Guardado en este teléfono. Se enviará en cuanto tenga conexión.",
    already_sent: "Ya ha enviado la lista de este mes. Si algo le preocupa, llame a su equipo de EM.",
    result: "Su resultado", waiting: "{n} pendientes de enviar", rejected: "No se pudo enviar: {error}",
    labs_title: "Análisis", record_result: "Anotar un resultado", taken_on: "Fecha de la muestra",
    analyte: "Prueba", value: "Valor", result_saved: "Resultado guardado.", trends: "Evolución",
    normal_range: "rango normal", your_baseline: "su valor antes del tratamiento", no_results: "Aún no hay resultados.",
    timeline_title: "Su calendario", as_list: "Lista", as_calendar: "Mes", previous: "Mes anterior",
    next: "Mes siguiente", status_upcoming: "próximo", status_due: "toca", status_done: "hecho",
    status_overdue: "atrasado", status_missed: "no hecho",
    settings_title: "Ajustes", notifications: "Notificaciones",
    notifications_explain: "Alemtrack puede avisarle en este teléfono cuando toca un análisis, la lista o un medicamento. Por defecto, la pantalla de bloqueo solo dice que tiene un recordatorio, nada sobre su salud.",
    notifications_on: "Activar notificaciones", notifications_off: "Desactivar notificaciones",
    notifications_enabled: "Las notificaciones están activadas en este teléfono.", notifications_blocked: "Las notificaciones están bloqueadas en los ajustes del navegador.",
    notifications_unsupported: "Este navegador no puede mostrar notificaciones. Use el enlace de calendario de abajo.",
    iphone_title: "En un iPhone", iphone_steps: "Abra Alemtrack en Safari, toque Compartir y luego «Añadir a pantalla de inicio». Abra Alemtrack desde la pantalla de inicio y active allí las notificaciones.",
    calendar: "Calendario", calendar_explain: "Añada sus recordatorios al calendario del teléfono. El enlace es privado: no lo comparta.",
    calendar_create: "Crear mi enlace de calendario", calendar_copy: "Su enlace privado de calendario:",
    detailed: "Mostrar de qué trata el recordatorio en la pantalla de bloqueo", language: "Idioma", save: "Guardar", saved: "Guardado.",
    family: "Familia", family_explain: "Las personas que invite ven sus recordatorios y su calendario, nunca sus respuestas ni resultados.",
    invite: "Invitar a un familiar", invite_code: "Deles este código (válido hasta el {date}):", remove: "Quitar",
    no_family: "Nadie todavía.", export: "Descargar mis datos",
    flags_title: "Cola de avisos", no_flags: "No hay avisos abiertos.", raised: "hace {ago}", open: "Abrir",
    acknowledge: "Confirmar", resolve: "Resolver", outcome: "Resultado", note_short: "Nota", snooze: "Silenciar una pregunta",
    question_code: "Pregunta", snooze_until: "Hasta", recent_answers: "Listas recientes", recent_results: "Resultados recientes",
    patients_title: "Pacientes", adherence: "Cumplimiento", overdue_labs: "análisis atrasados", missed_checklists: "listas no hechas",
    unreachable: "sin canal de recordatorios", open_flags: "avisos abiertos",
    enrol_title: "Dar de alta a un paciente", name: "Nombre", sex: "Sexo", female: "Mujer", male: "Hombre", other: "Otro",
    childbearing: "Puede quedarse embarazada", breastfeeding_label: "Dando el pecho", timezone: "Zona horaria",
    baseline_platelets: "Plaquetas antes del tratamiento (10⁹/L)", baseline_creatinine: "Creatinina antes del tratamiento (µmol/L)",
    enrol: "Dar de alta", enrolment_code: "Código de alta para el paciente (válido hasta el {date}):",
    record_course: "Anotar un ciclo", infusions: "Fechas de perfusión", given: "Administrado", planned: "Previsto",
    course_saved: "Ciclo guardado.", family_title: "Recordatorios de {name}",
    update_ready: "Hay una versión nueva de Alemtrack.", update_now: "Actualizar ahora",
    offline: "Está sin conexión. Ve lo guardado en este teléfono.",
    logout_unsent: "Entradas sin enviar en este teléfono: {n}. Si cierra la sesión ahora, se borra lo que no se ha enviado y su equipo de EM no lo recibirá. ¿Cerrar la sesión de todos modos?", offline_login: "Está sin conexión. Inicie sesión de nuevo cuando tenga conexión.", error: "Algo ha fallado: {message}",
    minutes: "{n} min", hours: "{n} h", days: "{n} días",
  },
  de: {
    nav_protocol: "Protokoll", sheet_language: "Sprache des Blatts", sheet_printable: "Druckversion zum Unterschreiben", sheet_explain: "Alle Regeln, mit denen die App rechnet, aus ihren Inhaltsdateien erzeugt. Die Druckversion endet mit einem Unterschriftsfeld, das diese Inhaltsversion nennt.",
    nav_today: "Heute", nav_checklist: "Checkliste", nav_labs: "Laborwerte", nav_timeline: "Zeitplan",
    nav_settings: "Einstellungen", nav_flags: "Hinweise", nav_patients: "Patienten", nav_enrol: "Aufnehmen",
    nav_reminders: "Erinnerungen", logout: "Abmelden",
    login_title: "Anmelden", email: "E-Mail", password: "Passwort", login: "Anmelden",
    login_failed: "E-Mail oder Passwort ist falsch.",
    today_title: "Heute", due_now: "Jetzt fällig", running: "Läuft gerade", until: "bis {date}",
    open_end: "bis Ihr Team sagt, dass Sie aufhören können", next_blood: "Nächster Bluttest", nothing_due: "Heute ist nichts fällig.",
    help_title: "Sofort Hilfe holen", help_intro: "Rufen Sie sofort den Notruf, wenn Sie eines dieser Zeichen haben:",
    call_emergency: "Notruf: {number} anrufen", call_team: "Ihr MS-Team: {phone}",
    checklist_title: "Monatliche Checkliste", checklist_intro: "Hatten Sie seit Ihrer letzten Checkliste etwas davon?",
    yes: "Ja", no: "Nein", why: "Warum wir fragen", note: "Möchten Sie Ihrem Team noch etwas sagen? (freiwillig)",
    note_hint: "Ihr Team liest das bei Ihrem nächsten Kontrolltermin, nicht sofort. Wenn Sie sich jetzt Sorgen machen, rufen Sie dort an.",
    send: "Senden", sending: "Wird gesendet…", saved_offline: "Auf diesem Telefon gespeichert. Es wird gesendet, sobald Sie online sind.",
    already_sent: "Sie haben die Checkliste für diesen Monat schon gesendet. Wenn Sie etwas beunruhigt, rufen Sie Ihr MS-Team an.",
    result: "Ihr Ergebnis", waiting: "{n} warten auf das Senden", rejected: "Konnte nicht gesendet werden: {error}",
    labs_title: "Laborwerte", record_result: "Ergebnis eintragen", taken_on: "Datum der Blutabnahme",
    analyte: "Test", value: "Wert", result_saved: "Ergebnis gespeichert.", trends: "Verlauf",
    normal_range: "Normalbereich", your_baseline: "Ihr Wert vor der Behandlung", no_results: "Noch keine Ergebnisse.",
    timeline_title: "Ihr Zeitplan", as_list: "Liste", as_calendar: "Monat", previous: "Voriger Monat",
    next: "Nächster Monat", status_upcoming: "kommt", status_due: "fällig", status_done: "erledigt",
    status_overdue: "überfällig", status_missed: "verpasst",
    settings_title: "Einstellungen", notifications: "Benachrichtigungen",
    notifications_explain: "Alemtrack kann Sie auf diesem Telefon erinnern, wenn ein Test, die Checkliste oder ein Medikament fällig ist. Auf dem Sperrbildschirm steht normalerweise nur, dass Sie eine Erinnerung haben, nichts über Ihre Gesundheit.",
    notifications_on: "Benachrichtigungen einschalten", notifications_off: "Benachrichtigungen ausschalten",
    notifications_enabled: "Benachrichtigungen sind auf diesem Telefon an.", notifications_blocked: "Benachrichtigungen sind in den Browser-Einstellungen blockiert.",
    notifications_unsupported: "Dieser Browser kann keine Benachrichtigungen zeigen. Nutzen Sie unten den Kalender-Link.",
    iphone_title: "Auf einem iPhone", iphone_steps: "Öffnen Sie Alemtrack in Safari, tippen Sie auf Teilen und dann auf „Zum Home-Bildschirm“. Öffnen Sie Alemtrack vom Home-Bildschirm und schalten Sie dort die Benachrichtigungen ein.",
    calendar: "Kalender", calendar_explain: "Übernehmen Sie Ihre Erinnerungen in den Kalender Ihres Telefons. Der Link ist privat: Geben Sie ihn nicht weiter.",
    calendar_create: "Meinen Kalender-Link erstellen", calendar_copy: "Ihr privater Kalender-Link:",
    detailed: "Auf dem Sperrbildschirm zeigen, worum es geht", language: "Sprache", save: "Speichern", saved: "Gespeichert.",
    family: "Familie", family_explain: "Eingeladene Personen sehen Ihre Erinnerungen und Ihren Zeitplan, nie Ihre Antworten oder Werte.",
    invite: "Angehörige einladen", invite_code: "Geben Sie diesen Code weiter (gültig bis {date}):", remove: "Entfernen",
    no_family: "Noch niemand.", export: "Meine Daten herunterladen",
    flags_title: "Hinweis-Liste", no_flags: "Keine offenen Hinweise.", raised: "vor {ago}", open: "Öffnen",
    acknowledge: "Bestätigen", resolve: "Abschließen", outcome: "Ergebnis", note_short: "Notiz", snooze: "Eine Frage stummschalten",
    question_code: "Frage", snooze_until: "Bis", recent_answers: "Letzte Checklisten", recent_results: "Letzte Werte",
    patients_title: "Patienten", adherence: "Therapietreue", overdue_labs: "überfällige Laborwerte", missed_checklists: "verpasste Checklisten",
    unreachable: "kein funktionierender Erinnerungsweg", open_flags: "offene Hinweise",
    enrol_title: "Patienten aufnehmen", name: "Name", sex: "Geschlecht", female: "Weiblich", male: "Männlich", other: "Divers",
    childbearing: "Kann schwanger werden", breastfeeding_label: "Stillt", timezone: "Zeitzone",
    baseline_platelets: "Blutplättchen vor der Behandlung (10⁹/L)", baseline_creatinine: "Kreatinin vor der Behandlung (µmol/L)",
    enrol: "Aufnehmen", enrolment_code: "Aufnahme-Code für den Patienten (gültig bis {date}):",
    record_course: "Behandlungsphase eintragen", infusions: "Infusionstage", given: "Gegeben", planned: "Geplant",
    course_saved: "Behandlungsphase gespeichert.", family_title: "Erinnerungen für {name}",
    update_ready: "Eine neue Version von Alemtrack ist bereit.", update_now: "Jetzt aktualisieren",
    offline: "Sie sind offline. Sie sehen, was auf diesem Telefon gespeichert ist.",
    logout_unsent: "Nicht gesendete Einträge auf diesem Telefon: {n}. Wenn Sie sich jetzt abmelden, wird alles nicht Gesendete gelöscht, und Ihr MS-Team erhält es nicht. Trotzdem abmelden?", offline_login: "Sie sind offline. Melden Sie sich wieder an, sobald Sie online sind.", error: "Etwas ist schiefgegangen: {message}",
    minutes: "{n} Min.", hours: "{n} Std.", days: "{n} Tagen",
  },
  it: {
    nav_protocol: "Protocollo", sheet_language: "Lingua della scheda", sheet_printable: "Versione stampabile da firmare", sheet_explain: "Tutte le regole con cui calcola l'app, generate dai suoi file di contenuto. La versione stampabile termina con un riquadro per la firma che indica questa versione del contenuto.",
    nav_today: "Oggi", nav_checklist: "Lista di controllo", nav_labs: "Esami", nav_timeline: "Calendario",
    nav_settings: "Impostazioni", nav_flags: "Segnalazioni", nav_patients: "Pazienti", nav_enrol: "Iscrivi",
    nav_reminders: "Promemoria", logout: "Esci",
    login_title: "Accedi", email: "Email", password: "Password", login: "Accedi",
    login_failed: "Email o password errata.",
    today_title: "Oggi", due_now: "Da fare ora", running: "In corso", until: "fino al {date}",
    open_end: "finché il team non le dice di smettere", next_blood: "Prossimo esame del sangue", nothing_due: "Oggi non c'è niente da fare.",
    help_title: "Chieda aiuto subito", help_intro: "Chiami subito il numero di emergenza se ha uno di questi segni:",
    call_emergency: "Emergenza: chiami il {number}", call_team: "Il suo team SM: {phone}",
    checklist_title: "Lista di controllo mensile", checklist_intro: "Dall'ultima lista, ha avuto qualcuno di questi disturbi?",
    yes: "Sì", no: "No", why: "Perché lo chiediamo", note: "Vuole dire altro al suo team? (facoltativo)",
    note_hint: "Il suo team lo leggerà al prossimo controllo, non subito. Se qualcosa la preoccupa adesso, chiami il team.",
    send: "Invia", sending: "Invio…", saved_offline: "Salvato su questo telefono. Sarà inviato appena sarà online.",
    already_sent: "Ha già inviato la lista di questo mese. Se qualcosa la preoccupa, chiami il suo team SM.",
    result: "Il suo risultato", waiting: "{n} in attesa di invio", rejected: "Invio non riuscito: {error}",
    labs_title: "Esami", record_result: "Registra un risultato", taken_on: "Data del prelievo",
    analyte: "Esame", value: "Valore", result_saved: "Risultato salvato.", trends: "Andamento",
    normal_range: "intervallo normale", your_baseline: "il suo valore prima della terapia", no_results: "Ancora nessun risultato.",
    timeline_title: "Il suo calendario", as_list: "Elenco", as_calendar: "Mese", previous: "Mese precedente",
    next: "Mese successivo", status_upcoming: "in arrivo", status_due: "da fare", status_done: "fatto",
    status_overdue: "in ritardo", status_missed: "saltato",
    settings_title: "Impostazioni", notifications: "Notifiche",
    notifications_explain: "Alemtrack può ricordarle su questo telefono quando c'è un esame, la lista o un farmaco. Di solito la schermata di blocco dice solo che ha un promemoria, niente sulla sua salute.",
    notifications_on: "Attiva le notifiche", notifications_off: "Disattiva le notifiche",
    notifications_enabled: "Le notifiche sono attive su questo telefono.", notifications_blocked: "Le notifiche sono bloccate nelle impostazioni del browser.",
    notifications_unsupported: "Questo browser non può mostrare notifiche. Usi il link del calendario qui sotto.",
    iphone_title: "Su un iPhone", iphone_steps: "Apra Alemtrack in Safari, tocchi Condividi e poi «Aggiungi alla schermata Home». Apra Alemtrack dalla schermata Home e attivi lì le notifiche.",
    calendar: "Calendario", calendar_explain: "Aggiunga i promemoria al calendario del telefono. Il link è privato: non lo condivida.",
    calendar_create: "Crea il mio link del calendario", calendar_copy: "Il suo link privato del calendario:",
    detailed: "Mostra l'argomento del promemoria sulla schermata di blocco", language: "Lingua", save: "Salva", saved: "Salvato.",
    family: "Famiglia", family_explain: "Le persone che invita vedono i promemoria e il calendario, mai le sue risposte o i risultati.",
    invite: "Invita un familiare", invite_code: "Gli dia questo codice (valido fino al {date}):", remove: "Rimuovi",
    no_family: "Ancora nessuno.", export: "Scarica i miei dati",
    flags_title: "Coda delle segnalazioni", no_flags: "Nessuna segnalazione aperta.", raised: "{ago} fa", open: "Apri",
    acknowledge: "Conferma", resolve: "Chiudi", outcome: "Esito", note_short: "Nota", snooze: "Silenzia una domanda",
    question_code: "Domanda", snooze_until: "Fino al", recent_answers: "Liste recenti", recent_results: "Risultati recenti",
    patients_title: "Pazienti", adherence: "Aderenza", overdue_labs: "esami in ritardo", missed_checklists: "liste saltate",
    unreachable: "nessun canale di promemoria funzionante", open_flags: "segnalazioni aperte",
    enrol_title: "Iscrivi un paziente", name: "Nome", sex: "Sesso", female: "Donna", male: "Uomo", other: "Altro",
    childbearing: "Può rimanere incinta", breastfeeding_label: "Allatta", timezone: "Fuso orario",
    baseline_platelets: "Piastrine prima della terapia (10⁹/L)", baseline_creatinine: "Creatinina prima della terapia (µmol/L)",
    enrol: "Iscrivi", enrolment_code: "Codice di iscrizione per il paziente (valido fino al {date}):",
    record_course: "Registra un ciclo", infusions: "Date delle infusioni", given: "Somministrato", planned: "Previsto",
    course_saved: "Ciclo salvato.", family_title: "Promemoria per {name}",
    update_ready: "È pronta una nuova versione di Alemtrack.", update_now: "Aggiorna ora",
    offline: "È offline. Vede ciò che è salvato su questo telefono.",
    logout_unsent: "Voci non inviate su questo telefono: {n}. Se esce ora, ciò che non è stato inviato viene cancellato e il suo team SM non lo riceverà. Uscire comunque?", offline_login: "È offline. Acceda di nuovo quando sarà online.", error: "Qualcosa è andato storto: {message}",
    minutes: "{n} min", hours: "{n} h", days: "{n} giorni",
  },
};

for (const table of [LAB_WORDS, CARE_WORDS, START_WORDS, IMPORT_WORDS, PATIENT_WORDS, TODAY_WORDS, CLINIC_WORDS, QUEUE_WORDS, READ_MARK_WORDS, CLL_SCHEDULE_WORDS, IMPORT_REFUSAL_WORDS]) for (const [code, words] of Object.entries(table)) Object.assign(UI[code], words);

/** Every word of the app by language, merged (read by the words test). */
export const WORDS = UI;

let current = "en";
/** The words of the logged-in patient's protocol over the usual ones (none for MS). */
const PROTOCOL_WORDS = { cll: CLL_WORDS };
let protocolWords = null;
export function setProtocol(protocol) { protocolWords = PROTOCOL_WORDS[protocol] || null; }
/** Speak ``language`` from now on; when it changes, "alemtrack-language" tells the
 * parts drawn outside the screen (the menu) to redraw in it. */
export function setLanguage(language) {
  const before = current;
  current = UI[language] ? language : "en";
  document.documentElement.lang = current;
  if (before !== current) window.dispatchEvent(new CustomEvent("alemtrack-language"));
}
export function language() { return current; }
export function t(key, values = {}) {
  const text = (protocolWords && ((protocolWords[current] && protocolWords[current][key]) || protocolWords.en[key]))
    || (UI[current] && UI[current][key]) || UI.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}
/** ``key`` with a number: its "_one" or "_other" form as the language's plural rules say, {n} filled in. */
export function tn(key, n, values = {}) {
  const form = new Intl.PluralRules(current).select(n) === "one" ? "one" : "other";
  return t(`${key}_${form}`, { ...values, n: formatNumber(n) });
}
export function formatDate(iso, options = { day: "numeric", month: "long", year: "numeric" }) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return new Intl.DateTimeFormat(current, { ...options, timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
}
export function formatNumber(value) { return new Intl.NumberFormat(current).format(value); }
export function ago(iso) {
  // At least a minute: "0 min ago" reads like a mistake inside "raised {ago} ago".
  const minutes = Math.max(1, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
  if (minutes < 90) return t("minutes", { n: minutes });
  if (minutes < 48 * 60) return t("hours", { n: Math.round(minutes / 60) });
  return t("days", { n: Math.round(minutes / 1440) });
}
/** An instant (ISO 8601) as a date and time, in the app's language and the phone's time zone. */
export function formatInstant(iso) {
  return iso ? new Intl.DateTimeFormat(current, { dateStyle: "long", timeStyle: "short" }).format(new Date(iso)) : "";
}
/** An instant's time of day (14:02), in the app's language. */
export function formatTime(when) {
  return new Intl.DateTimeFormat(current, { hour: "numeric", minute: "2-digit" }).format(new Date(when));
}
/** Two dates as a range ("3–9 May 2027"), as the language writes ranges; an open end says so. */
export function formatDateRange(startIso, endIso, options = { day: "numeric", month: "long", year: "numeric" }) {
  if (!endIso) return `${formatDate(startIso, options)} – ${t("open_end")}`;
  const utc = (iso) => { const [y, m, d] = iso.slice(0, 10).split("-").map(Number); return new Date(Date.UTC(y, m - 1, d)); };
  return new Intl.DateTimeFormat(current, { ...options, timeZone: "UTC" }).formatRange(utc(startIso), utc(endIso));
}
/** The plain sentence for an API error (or a failed fetch): "ae_<code>_<field>" with the
 * field's list positions left out, then "ae_<code>", then a general one. */
export function apiErrorText(error) {
  if (!error || !error.status) return t("ae_network");
  const field = (error.field || "").split(".").filter((part) => !/^\d+$/.test(part)).join("_");
  const table = UI[current];
  for (const key of [`ae_${error.code}_${field}`, `ae_${error.code}`]) {
    if (key in table || key in UI.en) return t(key);
  }
  return t("ae_generic");
}
