"""Event kinds, registered by name, and how an event is written with its deliveries.

An event is a typed fact ("hearing moved earlier"), with a severity and a dedup key: writing the
same event twice is a no-op. :func:`emit` writes the event and its Delivery rows (the outbox) in
the caller's transaction, so a crash loses nothing and a re-run duplicates nothing.

Every kind documents itself; ``docketwatch events kinds`` prints the registry.
"""

from __future__ import annotations

import enum
import logging
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storage.errors import ValidationError
from storage.models import Severity

log = logging.getLogger(__name__)


class Audience(enum.StrEnum):
    client = "client"  # the client's attorney (then backup, then coordinators)
    coordinators = "coordinators"
    admins = "admins"  # never attorneys


@dataclass(frozen=True)
class EventKind:
    name: str
    severity: Severity
    audience: Audience
    doc: str
    en: str  # headline, English
    es: str  # headline, Spanish


class RegistryError(ValueError):
    """A kind registered twice, or an unknown kind used."""


KINDS: dict[str, EventKind] = {}


def register(
    name: str, severity: Severity, audience: Audience, doc: str, en: str, es: str
) -> EventKind:
    if name in KINDS:
        raise RegistryError(f"event kind {name!r} is registered already")
    if not doc.strip() or not en.strip() or not es.strip():
        raise RegistryError(f"event kind {name!r} needs a description and both headlines")
    kind = EventKind(name, severity, audience, doc.strip(), en, es)
    KINDS[name] = kind
    return kind


def known_kinds(names: list[str]) -> list[str]:
    """``names`` if every one is a registered kind; else a ValidationError naming the first
    unknown one (for muted kinds given on the command line or in the web app)."""
    for name in names:
        if name not in KINDS:
            raise ValidationError(f"unknown event kind {name!r} (see `docketwatch events kinds`)")
    return names


def kind(name: str) -> EventKind:
    try:
        return KINDS[name]
    except KeyError:
        raise RegistryError(f"unknown event kind {name!r}") from None


U, N, I = Severity.urgent, Severity.normal, Severity.info  # noqa: E741
C, CO, AD = Audience.client, Audience.coordinators, Audience.admins

# fmt: off
register("hearing_scheduled", N, C, "A first upcoming hearing appeared for the client.",
         "Hearing scheduled", "Audiencia programada")
register("hearing_moved_earlier", U, C,
         "The next hearing moved to an earlier date: less time to prepare.",
         "Hearing moved EARLIER", "Audiencia ADELANTADA")
register("hearing_moved_later", N, C, "The next hearing moved to a later date.",
         "Hearing moved later", "Audiencia pospuesta")
register("hearing_time_changed", N, C, "Same date, different time of day.",
         "Hearing time changed", "Cambió la hora de la audiencia")
register("hearing_judge_changed", N, C, "The hearing's immigration judge changed.",
         "Judge changed", "Cambió el juez")
register("hearing_medium_changed", N, C,
         "In person / video / internet (WebEx) changed for the hearing.",
         "Hearing format changed", "Cambió el formato de la audiencia")
register("hearing_location_changed", N, C, "The hearing's court or hearing location changed.",
         "Hearing location changed", "Cambió el lugar de la audiencia")
register("hearing_type_changed", N, C, "Master / individual calendar or schedule type changed.",
         "Hearing type changed", "Cambió el tipo de audiencia")
register("hearing_removed", U, C,
         "The client has no upcoming hearing any more (verify: adjourned, completed or moved).",
         "No upcoming hearing any more", "Ya no hay audiencia próxima")
register("decision_entered", U, C, "An immigration judge's decision was entered.",
         "Decision entered", "Se dictó una decisión")
register("appeal_due_soon", U, C, "A BIA appeal is due within 10 days and none is on file.",
         "Appeal due soon", "Vence el plazo de apelación")
register("appeal_filed", N, C, "A BIA appeal was filed.", "Appeal filed", "Apelación presentada")
register("case_not_found", U, C,
         "ACIS no longer finds a case it found before (after repeated lookups).",
         "Case not found in ACIS", "Caso no encontrado en ACIS")
register("client_detained", U, C,
         "The ICE locator shows the client in custody (not found or released before).",
         "Client DETAINED", "Cliente DETENIDO/A")
register("client_transferred", N, C,
         "The client's detention facility changed; urgent when the new one is outside the Los "
         "Angeles area of responsibility or out of state.",
         "Client transferred", "Cliente trasladado/a")
register("client_released", N, C, "The ICE locator shows the client released.",
         "Client released", "Cliente liberado/a")
register("client_not_found", U, C,
         "The ICE locator stopped finding a detained client (after repeated zero results).",
         "Client not found in ICE locator", "Cliente no encontrado en el localizador de ICE")
register("custody_court_mismatch", N, C,
         "Detained per the ICE locator while the ACIS hearing is at a non-detained court: verify.",
         "Custody and court disagree", "Custodia y tribunal no coinciden")
register("court_closed", U, C,
         "EOIR lists a court as closed on days the client has a hearing there (coordinators get "
         "a summary).", "Court CLOSED", "Tribunal CERRADO")
register("court_closed_summary", U, CO,
         "A court closed: the clients with hearings on the affected days, for coordinators.",
         "Court CLOSED: client hearings affected", "Tribunal CERRADO: audiencias afectadas")
register("court_reopened", N, C, "A court that was closed is open again.",
         "Court reopened", "Tribunal reabierto")
register("court_judges_changed", I, CO, "A judge was added to or removed from the Adelanto court.",
         "Adelanto judges changed", "Cambiaron los jueces de Adelanto")
register("new_unrepresented_case", N, CO,
         "A new detained case without a respondent's attorney appeared at Adelanto.",
         "New unrepresented case at Adelanto", "Nuevo caso sin representación en Adelanto")
register("source_unhealthy", U, AD,
         "A public source failed several runs in a row (captcha, block page, layout change, "
         "errors) or is overdue.", "Source failing", "Fuente con fallas")
register("source_recovered", I, AD, "A failing source answered normally again.",
         "Source recovered", "Fuente recuperada")
register("channel_failing", U, AD,
         "Alerts to a staff channel kept failing; the channel is marked failing.",
         "Alert channel failing", "Canal de alertas con fallas")
register("channel_recovered", I, AD, "A failing alert channel delivered again.",
         "Alert channel recovered", "Canal de alertas recuperado")
register("delivery_uncertain", N, AD,
         "The service stopped while sending an alert: it may or may not have gone out. "
         "It is not resent automatically (`docketwatch alerts retry ID` sends it).",
         "Alert may not have been sent", "La alerta quizá no se envió")
register("service_fault", U, AD,
         "The service met a fault it survived (database locked or full, a job that failed); "
         "sent once the database takes writes again, with how long it lasted.",
         "Service fault", "Falla del servicio")
register("facility_added", I, AD,
         "The ICE locator named a facility docketwatch did not know; it was added from its "
         "detail page (check its area of responsibility).",
         "New detention facility added", "Nuevo centro de detención agregado")
register("monthly_report", I, CO,
         "The program report of the month just ended is ready (its headline figures, and where "
         "to download it); sent on the first of the month.",
         "Monthly program report", "Informe mensual del programa")
register("reminder_unverified", U, C,
         "A hearing reminder due to the client could not be confirmed on ACIS in time (or its "
         "language was switched off): the client was NOT reminded; reach the client yourself.",
         "Client NOT reminded: hearing unconfirmed",
         "Cliente SIN recordatorio: audiencia sin confirmar")
register("reminder_failed", U, C,
         "A confirmed hearing reminder could not be delivered to the client (the SMS/WhatsApp "
         "gateway kept failing): reach the client yourself.",
         "Client reminder NOT delivered", "Recordatorio al cliente NO entregado")
register("reminders_stopped", N, C,
         "The client replied STOP (or ALTO) to a reminder: consent is withdrawn and no more "
         "reminders go to the client.",
         "Client stopped reminders", "El cliente canceló los recordatorios")
register("roster_sync_refused", U, CO,
         "A roster sync was refused whole: its source omitted more of the clients it listed "
         "before than allowed (a truncated export?). Nothing changed; said once until a sync "
         "is applied.", "Roster sync REFUSED", "Sincronización de la lista RECHAZADA")
register("roster_sync_rejects", N, CO,
         "Rows of the program's roster source could not be applied (each with its line, column "
         "and reason), or name attorneys who are not staff; sent when they change.",
         "Roster sync: rows to fix", "Sincronización de la lista: filas por corregir")
register("roster_sync_failing", U, AD,
         "The program's roster source could not be read several syncs in a row (down, refused "
         "the token, a renamed column); nothing changed.",
         "Roster source failing", "Fuente de la lista con fallas")
register("roster_sync_recovered", I, AD, "The program's roster source was read again.",
         "Roster source recovered", "Fuente de la lista recuperada")
register("case_note_failed", N, AD,
         "A hearing change could not be written as a case note in the program's LegalServer "
         "(the attorney was alerted; the note is not): check the site, its token and the "
         "client's matter.", "Case note NOT written", "Nota del caso NO escrita")
register("federal_entry_filed", N, C,
         "A new entry on a client's federal docket (habeas petition, petition for review).",
         "New entry on the federal docket", "Nueva anotación en el expediente federal")
register("federal_order_to_show_cause", U, C,
         "The federal court ordered the government to show cause (a short return date).",
         "Federal court: ORDER TO SHOW CAUSE", "Tribunal federal: ORDEN DE MOSTRAR CAUSA")
register("federal_tro_decided", U, C,
         "The federal court granted or denied a temporary restraining order.",
         "Federal court: TRO decided", "Tribunal federal: orden de restricción temporal decidida")
register("federal_stay_decided", U, C,
         "A stay of removal was entered (the temporary stay included), granted or denied.",
         "Federal court: STAY OF REMOVAL decided",
         "Tribunal federal: SUSPENSIÓN DE LA DEPORTACIÓN decidida")
register("federal_habeas_decided", U, C,
         "The federal case was decided: writ granted or denied, judgment, or a petition for "
         "review's disposition.",
         "Federal case DECIDED", "Caso federal DECIDIDO")
register("federal_hearing_set", N, C,
         "The federal court set or reset a hearing (it is in the attorney's calendar feed).",
         "Federal court hearing set", "Audiencia federal programada")
register("federal_case_closed", N, C,
         "The federal case was closed (JS-6, case terminated, mandate issued).",
         "Federal case closed", "Caso federal cerrado")
register("test_message", I, AD, "A test message from `docketwatch alerts test`.",
         "docketwatch test message", "Mensaje de prueba de docketwatch")
# fmt: on


# -- the lines of a message ---------------------------------------------------------------------
#
# Every line an event adds to its message beyond the labelled facts (what changed, the hearing) is
# a registered note: a template in each staff language, and its parameters in the payload
# (``payload["notes"]``: ``[{"note": NAME, PARAM: VALUE, ...}]``). Parameters are data (dates as
# ISO text, counts, names from the sources); the words around them are the template's. A date
# parameter (``YYYY-MM-DD``) is written in the recipient's language.


@dataclass(frozen=True)
class NoteTemplate:
    name: str
    en: str
    es: str
    fields: frozenset[str]


NOTES: dict[str, NoteTemplate] = {}


def _fields(template: str) -> frozenset[str]:
    return frozenset(f for _, f, _, _ in string.Formatter().parse(template) if f)


def register_note(name: str, en: str, es: str) -> NoteTemplate:
    if name in NOTES:
        raise RegistryError(f"note {name!r} is registered already")
    if _fields(en) != _fields(es):
        raise RegistryError(f"note {name!r}: the English and Spanish templates differ in fields")
    note_template = NoteTemplate(name, en, es, _fields(en))
    NOTES[name] = note_template
    return note_template


def note(name: str, **params: Any) -> dict[str, Any]:
    """One line for a payload's ``notes``: a registered template's name and its parameters
    (every field of the template, nothing else)."""
    template = NOTES.get(name)
    if template is None:
        raise RegistryError(f"unknown note {name!r}")
    if set(params) != template.fields:
        raise RegistryError(
            f"note {name!r} takes {sorted(template.fields)}, was given {sorted(params)}"
        )
    return {"note": name, **{k: v if isinstance(v, int) else str(v) for k, v in params.items()}}


# fmt: off
register_note(
    "case_not_found",
    "ACIS found no case in {lookups} lookups in a row (last found {last_found}).",
    "ACIS no encontró el caso en {lookups} consultas seguidas (última vez encontrado: "
    "{last_found}).")
register_note(
    "decision_dates",
    "Completed {completed}; appeal due {appeal_due}.",
    "Concluido el {completed}; la apelación vence el {appeal_due}.")
register_note("appeal_filed", "Appeal filed {filed}.", "Apelación presentada el {filed}.")
register_note(
    "appeal_due",
    "BIA appeal due {due} ({days} days); none on file.",
    "La apelación ante la BIA vence el {due} ({days} días); no consta ninguna presentada.")
register_note(
    "prospect_case",
    "A prospect (intake, not yet represented) has a pending case at {court}; client #{client}.",
    "Un posible cliente (admisión, aún sin representación) tiene un caso pendiente en {court}; "
    "cliente n.º {client}.")
register_note(
    "facility_added",
    "Added from the ICE locator; set its area of responsibility so transfers to it are judged "
    "right.",
    "Agregado desde el localizador de ICE; indique su área de responsabilidad para que los "
    "traslados a él se evalúen bien.")
register_note(
    "locator_lost",
    "The ICE locator found no record in {lookups} lookups since {since} UTC; last seen at "
    "{facility}. Possibly removed or moved out of the locator: verify.",
    "El localizador de ICE no encontró ningún registro en {lookups} consultas desde {since} UTC; "
    "visto por última vez en {facility}. Posiblemente deportado/a o fuera del localizador: "
    "verifique.")
register_note(
    "monthly_report",
    "{month}: {clients} clients watched; {hearing_changes} hearing changes and "
    "{custody_changes} custody changes caught; median {median_minutes} minutes from a change "
    "seen to the attorney's alert. Counts under 10 show as <10. The report (HTML, PDF, XLSX, "
    "CSV): {where}",
    "{month}: {clients} clientes vigilados; {hearing_changes} cambios de audiencia y "
    "{custody_changes} cambios de custodia detectados; mediana de {median_minutes} minutos entre "
    "un cambio visto y la alerta al abogado. Los conteos menores de 10 aparecen como <10. El "
    "informe (HTML, PDF, XLSX, CSV): {where}")
register_note(
    "moved_far",
    "Moved out of the Los Angeles area of responsibility or out of state.",
    "Trasladado/a fuera del área de responsabilidad de Los Ángeles o fuera del estado.")
register_note(
    "released",
    "The ICE locator shows the client released (last facility: {facility}).",
    "El localizador de ICE muestra al cliente liberado/a (último centro: {facility}).")
register_note(
    "custody_court_mismatch",
    "Detained per the ICE locator, but the next hearing (ACIS) is at {court}, a non-detained "
    "court: verify custody and venue.",
    "Detenido/a según el localizador de ICE, pero la próxima audiencia (ACIS) es en {court}, un "
    "tribunal para no detenidos: verifique la custodia y el tribunal.")
register_note(
    "court_closed",
    "EOIR lists {court} as closed: \u201c{status}\u201d. This hearing is unverified until ACIS is "
    "checked again (an early check is requested); EOIR may issue a new hearing notice.",
    "EOIR indica que {court} está cerrado: \u201c{status}\u201d. Esta audiencia no está "
    "verificada hasta consultar ACIS de nuevo (se pidió una consulta anticipada); EOIR puede "
    "emitir un nuevo aviso de audiencia.")
register_note(
    "court_closed_summary",
    "EOIR lists {court} as closed: \u201c{status}\u201d. Affected days: {days}. {hearings} client "
    "hearing(s) on those days; their attorneys were alerted and early ACIS checks requested.",
    "EOIR indica que {court} está cerrado: \u201c{status}\u201d. Días afectados: {days}. "
    "{hearings} audiencia(s) de clientes esos días; se alertó a sus abogados y se pidieron "
    "consultas anticipadas en ACIS.")
register_note(
    "court_reopened",
    "EOIR lists {court} as open again. Check the hearing with ACIS (requested) before relying "
    "on it.",
    "EOIR indica que {court} está abierto de nuevo. Verifique la audiencia en ACIS (pedido) antes "
    "de darla por buena.")
register_note("judges_added", "{court} immigration judges added: {names}.",
              "Jueces de inmigración agregados en {court}: {names}.")
register_note("judges_removed", "{court} immigration judges removed: {names}.",
              "Jueces de inmigración retirados en {court}: {names}.")
register_note(
    "unrepresented_release",
    "{count} new detained case(s) without a respondent's attorney at {court} in the EOIR "
    "release of {as_of} (previous: {previous}); {with_hearing} with a hearing scheduled. By "
    "nationality: {by_nationality}. By language: {by_language}.",
    "{count} caso(s) nuevo(s) de personas detenidas sin abogado en {court} en la publicación de "
    "EOIR del {as_of} (anterior: {previous}); {with_hearing} con audiencia programada. Por "
    "nacionalidad: {by_nationality}. Por idioma: {by_language}.")
register_note(
    "unrepresented_more",
    "The first {listed} by hearing date are listed; all of them: `docketwatch caseload "
    "unrepresented --court {court} --detained --new`.",
    "Se listan los primeros {listed} por fecha de audiencia; todos: `docketwatch caseload "
    "unrepresented --court {court} --detained --new`.")
register_note(
    "roster_refused",
    "The roster source omits {omitted} of the {listed} active clients it listed last time; "
    "nothing was changed and they are still watched. Fix the export or report; if they really "
    "left, an admin runs `docketwatch clients sync --force`.",
    "La fuente de la lista omite {omitted} de los {listed} clientes activos que listó la última "
    "vez; no se cambió nada y se siguen vigilando. Corrija la exportación o el informe; si de "
    "verdad se fueron, un administrador ejecuta `docketwatch clients sync --force`.")
register_note("roster_reject", "Line {line}, column {column}: {reason}",
              "Línea {line}, columna {column}: {reason}")
register_note("roster_more_rejects", "... and {count} more rows (`docketwatch clients sync "
              "--dry-run` lists them all).",
              "... y {count} filas más (`docketwatch clients sync --dry-run` las lista todas).")
register_note("roster_unknown_emails",
              "No staff member has these attorney emails (the clients are watched, with their "
              "previous attorney): {emails}",
              "Ningún miembro del personal tiene estos correos de abogado (los clientes se "
              "vigilan, con su abogado anterior): {emails}")
register_note("roster_failing", "{runs} syncs in a row failed; the last: {message}",
              "{runs} sincronizaciones seguidas fallaron; la última: {message}")
register_note("roster_recovered", "The roster source was read again at {at} UTC.",
              "La fuente de la lista se leyó de nuevo a las {at} UTC.")
register_note(
    "case_note_failed",
    "Case note of alert #{alert} (client #{client}) not written after {attempts} attempts: "
    "{error}",
    "La nota del caso de la alerta n.º {alert} (cliente n.º {client}) no se escribió tras "
    "{attempts} intentos: {error}")
register_note(
    "federal_entry",
    "{court} {docket} entry {number} filed {filed}: {text}",
    "{court} {docket} anotación {number} del {filed}: {text}")
register_note(
    "federal_hearing",
    "Hearing on {when}; in your calendar feed.",
    "Audiencia el {when}; en su calendario.")
register_note("source_failing", "{source}: {runs} failing runs in a row.",
              "{source}: {runs} ejecuciones fallidas seguidas.")
register_note("source_run", "{at} UTC {outcome}: {message}", "{at} UTC {outcome}: {message}")
register_note("source_recovered", "{source}: the run at {at} UTC ended {outcome}.",
              "{source}: la ejecución de las {at} UTC terminó {outcome}.")
register_note(
    "channel_failing",
    "Channel {channel} of staff #{staff}: gave up after {attempts} attempts; last error: {error}",
    "Canal {channel} del personal n.º {staff}: se abandonó tras {attempts} intentos; último "
    "error: {error}")
register_note("channel_recovered", "Channel {channel} of staff #{staff}: delivered again.",
              "Canal {channel} del personal n.º {staff}: volvió a entregar.")
register_note(
    "delivery_uncertain",
    "Delivery #{delivery} (alert #{alert}) to staff #{staff}: the service stopped while "
    "sending; it may have gone out. `docketwatch alerts retry {delivery}` sends it again.",
    "Entrega n.º {delivery} (alerta n.º {alert}) al personal n.º {staff}: el servicio se detuvo "
    "mientras enviaba; quizá salió. `docketwatch alerts retry {delivery}` la envía de nuevo.")
register_note(
    "reminder_unverified",
    "The {rule} reminder of this hearing was not sent to the client: {why}. Please tell the "
    "client yourself, after checking the hearing.",
    "El recordatorio {rule} de esta audiencia no se envió al cliente: {why}. Avísele usted, tras "
    "verificar la audiencia.")
register_note(
    "reminder_failed",
    "The {rule} reminder of this hearing could not be delivered to the client after {attempts} "
    "attempts (last error: {error}). Please tell the client yourself.",
    "El recordatorio {rule} de esta audiencia no se pudo entregar al cliente tras {attempts} "
    "intentos (último error: {error}). Avísele usted.")
register_note(
    "reminders_stopped",
    "The client replied \u201c{word}\u201d to a reminder on {at} UTC: consent is withdrawn and no "
    "more reminders go out. Record consent again only if the client asks for it.",
    "El cliente respondió \u201c{word}\u201d a un recordatorio el {at} UTC: el consentimiento "
    "queda retirado y no se envían más recordatorios. Regístrelo de nuevo solo si el cliente lo "
    "pide.")
register_note(
    "reminder_uncertain",
    "Delivery #{delivery} (reminder #{reminder}) to client #{client}: the service stopped while "
    "sending; it may have gone out. It is not resent; `docketwatch alerts retry {delivery}` "
    "sends it again.",
    "Entrega n.º {delivery} (recordatorio n.º {reminder}) al cliente n.º {client}: el servicio "
    "se detuvo mientras enviaba; quizá salió. No se reenvía; `docketwatch alerts retry "
    "{delivery}` la envía de nuevo.")
register_note(
    "service_fault",
    "{cause}: {count} failure(s) from {first} UTC until {last} UTC ({seconds} s), in {where}. "
    "Last error: {error}",
    "{cause}: {count} falla(s) desde {first} UTC hasta {last} UTC ({seconds} s), en {where}. "
    "Último error: {error}")
# fmt: on


class EventInput(BaseModel):
    """An event as a detector proposes it; validated before anything is written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    subject_type: str = Field(
        pattern="^(client|court|source|channel|delivery|staff|report|roster)$"
    )
    subject_key: str = Field(min_length=1, max_length=40)
    dedup_key: str = Field(min_length=1, max_length=200)
    client_id: int | None = None
    # the program it is about; None: found from the client (or channel, delivery, staff
    # member) it is about, and none for public data (a court, a source)
    organization_id: int | None = None
    severity: Severity | None = None  # None: the kind's own severity
    payload: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime
    # Events of one lookup of one client share a group: each recipient gets one message for
    # them all, with the most urgent severity.
    group_key: str | None = Field(default=None, max_length=120)

    @field_validator("kind")
    @classmethod
    def _registered(cls, value: str) -> str:
        kind(value)
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")
        return value


def client_event(
    kind: str,
    client_id: int,
    key: str,
    now: datetime,
    *,
    group: str | None = None,
    dedup_key: str | None = None,
    severity: Severity | None = None,
    **payload: Any,
) -> EventInput:
    """An event about one client: its dedup key is the kind, the client and ``key`` (what makes
    this occurrence itself: the lookups compared, the hearing, the rule), so running a pass
    twice never makes it twice. ``dedup_key`` gives the whole key instead, where events stored
    before keep theirs."""
    return EventInput(
        kind=kind,
        subject_type="client",
        subject_key=str(client_id),
        client_id=client_id,
        dedup_key=(dedup_key or f"{kind}:{client_id}:{key}")[:200],
        severity=severity,
        payload=payload,
        occurred_at=now,
        group_key=group,
    )
