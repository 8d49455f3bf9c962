// Interface words that differ for a patient of the CLL protocol (CLINICAL.md 7): her
// care team is a haematology team and her checklist is weekly, then monthly. i18n.js
// puts them over the usual words while such a patient is logged in (setProtocol).
export const CLL_WORDS = {
  en: {
    call_team: "Your haematology team: {phone}",
    checklist_title: "Symptom checklist",
    already_sent: "You have already sent this checklist. If something worries you, call your haematology team.",
    logout_unsent: "Unsent entries on this phone: {n}. Logging out now deletes what has not been sent, and your haematology team will not receive it. Log out anyway?",
  },
  es: {
    call_team: "Su equipo de hematología: {phone}",
    checklist_title: "Lista de síntomas",
    already_sent: "Ya ha enviado esta lista. Si algo le preocupa, llame a su equipo de hematología.",
    logout_unsent: "Entradas sin enviar en este teléfono: {n}. Si cierra la sesión ahora, se borra lo que no se ha enviado y su equipo de hematología no lo recibirá. ¿Cerrar la sesión de todos modos?",
  },
  de: {
    call_team: "Ihr Hämatologie-Team: {phone}",
    checklist_title: "Symptom-Checkliste",
    already_sent: "Sie haben diese Checkliste schon gesendet. Wenn Sie etwas beunruhigt, rufen Sie Ihr Hämatologie-Team an.",
    logout_unsent: "Nicht gesendete Einträge auf diesem Telefon: {n}. Wenn Sie sich jetzt abmelden, wird alles nicht Gesendete gelöscht, und Ihr Hämatologie-Team erhält es nicht. Trotzdem abmelden?",
  },
  it: {
    call_team: "Il suo team di ematologia: {phone}",
    checklist_title: "Lista dei sintomi",
    already_sent: "Ha già inviato questa lista. Se qualcosa la preoccupa, chiami il suo team di ematologia.",
    logout_unsent: "Voci non inviate su questo telefono: {n}. Se esce ora, ciò che non è stato inviato viene cancellato e il suo team di ematologia non lo riceverà. Uscire comunque?",
  },
};
