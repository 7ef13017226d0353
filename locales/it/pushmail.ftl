# Pushmail — italiano.
# Traduzione di locales/en/pushmail.ftl (il riferimento: ogni chiave esiste lì).
# Terminologia come in Thunderbird: account, cartelle, Posta in arrivo, non letti.

app-name = Pushmail

## Tray: tooltip and icon title

tray-unread-total = { $count ->
    [0] Nessun messaggio non letto
    [one] 1 messaggio non letto
   *[other] { $count } messaggi non letti
}
tray-paused = Notifiche in pausa
tray-paused-until = Notifiche in pausa fino alle { $time }
tray-paused-until-tomorrow = Notifiche in pausa fino a domani alle { $time }

## Accounts: one line per account, in the tray menu and the tooltip

account-line = { $name } — { $count ->
    [0] nessun non letto
    [one] 1 non letto
   *[other] { $count } non letti
}
account-line-state = { $name } — { $state }
state-connecting = connessione in corso…
state-push = connesso
state-polling = controllo ogni { $seconds } s
state-backoff = non in linea, nuovo tentativo a breve
state-error = errore
state-auth_failed = password rifiutata
state-stopped = fermo
state-disabled = disattivato

## Tray menu

menu-open-mail-client = Apri il programma di posta
menu-check-now = Controlla ora
menu-pause = Sospendi le notifiche
menu-pause-30m = Per 30 minuti
menu-pause-1h = Per 1 ora
menu-pause-tomorrow = Fino a domani mattina
menu-resume = Riattiva le notifiche
menu-settings = Impostazioni…
menu-quit = Esci

## Notifications

notify-action-open = Apri
notify-action-mark-read = Segna come letto
notify-summary-title = { $count ->
    [one] 1 nuovo messaggio in { $account }
   *[other] { $count } nuovi messaggi in { $account }
}
notify-summary-from = { $others ->
    [0] da { $names }
    [one] da { $names } e un altro mittente
   *[other] da { $names } e altri { $others }
}
notify-count-only = { $count ->
    [one] 1 nuovo messaggio in { $account }
   *[other] { $count } nuovi messaggi in { $account }
}
sender-unknown = (mittente sconosciuto)
subject-none = (nessun oggetto)
subject-unreadable = (impossibile leggere questo messaggio)
notify-attention-title = { $account } richiede attenzione

## Tray process (pushmail): extra lines

account-line-with-state = { $line } ({ $state })
notify-sender-only-body = Nuovo messaggio in { $account }
notify-attention-body = { $detail }
open-failed-title = Impossibile aprire la posta
open-no-mail-client = Non è impostato alcun programma di posta predefinito. Scegline uno per i link email nelle impostazioni del desktop, oppure indica un comando di apertura in Pushmail, Impostazioni → Generale.
open-failed-command = Impossibile avviare { $program }: { $reason }
config-error-title = La configurazione di Pushmail contiene un errore

## Settings window (pushmail-settings, ui/)

settings-window-title = Impostazioni di Pushmail
settings-loading = Caricamento…
settings-nav-label = Sezioni delle impostazioni
settings-nav-accounts = Account
settings-nav-folders = Cartelle
settings-nav-notifications = Notifiche
settings-nav-general = Generale
settings-nav-activity = Attività
settings-tray-running = Pushmail è in esecuzione
settings-tray-stopped = Pushmail non è in esecuzione
settings-tray-unreachable = Impossibile contattare Pushmail
settings-tray-start = Avvia Pushmail
settings-tray-starting = Avvio in corso…
settings-tray-started = Pushmail è in esecuzione.
settings-tray-stopped-banner = Pushmail non è in esecuzione, quindi non c'è uno stato in tempo reale da mostrare. Le impostazioni sono salvate e avranno effetto al suo avvio.

settings-save = Salva
settings-saving = Salvataggio…
settings-cancel = Annulla
settings-back = Indietro
settings-saved = Salvato.
settings-saved-not-running = Salvato. Pushmail non è in esecuzione: la modifica avrà effetto al suo avvio.
settings-saved-reload-failed = Salvato, ma Pushmail in esecuzione non ha accettato la modifica: { $message }
settings-required = Obbligatorio

settings-error-invalid = Controlla questo campo
settings-error-config_unreadable = Il file di configurazione va corretto
settings-error-config_write = Impossibile salvare la configurazione
settings-error-not_found = L'account non esiste più
settings-error-keyring = Il portachiavi non ha risposto come previsto
settings-error-connect = Impossibile raggiungere il server
settings-error-tray_not_running = Pushmail non è in esecuzione
settings-error-tray = Pushmail non ha risposto
settings-error-spawn = Impossibile avviare Pushmail
settings-error-io = Si è verificato un problema
settings-error-internal = Si è verificato un problema
settings-error-sign_in = L'accesso non è stato completato
settings-config-broken = Le impostazioni non modificano un file che non riescono a leggere. Correggi il file, oppure spostalo altrove per ricominciare da capo, poi riapri le Impostazioni.

## Settings → Accounts

settings-accounts-title = Account
settings-accounts-subtitle = Le caselle di posta che Pushmail tiene d'occhio per i nuovi messaggi.
settings-welcome = Benvenuto in Pushmail. Aggiungi l'account di posta di cui vuoi ricevere le notifiche.
settings-account-add = Aggiungi account
settings-account-edit = Modifica
settings-account-remove = Rimuovi
settings-account-check-now = Controlla ora
settings-account-unread = { $count ->
    [0] Nessun messaggio non letto
    [one] 1 non letto
   *[other] { $count } non letti
}
settings-account-no-live-state = Stato non disponibile
settings-account-remove-confirm = Rimuovere { $name }? Anche la sua password verrà eliminata dal portachiavi. La posta sul server non viene toccata.
settings-account-removed = Account rimosso.
settings-account-saved = Account salvato.
settings-account-folders = { $count ->
    [one] 1 cartella
   *[other] { $count } cartelle
}

settings-account-delay-seconds = { $count ->
    [one] Di solito la posta nuova appare entro un secondo dall'arrivo sul server
   *[other] Di solito la posta nuova appare entro { $count } secondi dall'arrivo sul server
}
settings-account-delay-minutes = { $count ->
    [one] Di solito la posta nuova appare entro un minuto dall'arrivo sul server
   *[other] Di solito la posta nuova appare entro { $count } minuti dall'arrivo sul server
}
settings-account-delay-hours = { $count ->
    [one] Di solito la posta nuova appare entro un'ora dall'arrivo sul server
   *[other] Di solito la posta nuova appare entro { $count } ore dall'arrivo sul server
}
settings-account-delay-basis = { $count ->
    [one] mediana di 1 messaggio nelle ultime 24 ore
   *[other] mediana di { $count } messaggi nelle ultime 24 ore
}

## Settings → Add or edit an account

settings-account-new-title = Aggiungi account
settings-account-edit-title = Modifica { $name }
settings-account-intro = Pushmail si collega tramite IMAP o POP3 e legge solo le intestazioni dei nuovi messaggi.
settings-section-identity = Account
settings-section-server = Server
settings-section-advanced = Avanzate
settings-field-name = Nome
settings-field-name-help = Mostrato nel menu dell'area di notifica e nelle notifiche.
settings-field-email = Indirizzo email
settings-field-id = ID dell'account
settings-field-id-help = Breve e definitivo: dà il nome alla password nel portachiavi. Lettere, cifre, - e _.
settings-field-protocol = Protocollo
settings-protocol-imap = IMAP
settings-protocol-pop3 = POP3
settings-field-protocol-pop3-help = POP3 non ha il push: Pushmail controlla ogni { $seconds } s, non cancella né modifica mai nulla sul server e non può sapere quando leggi la posta altrove; il conteggio indica la posta nuova dall'ultima volta che hai aperto il programma di posta.
settings-field-host = Server IMAP
settings-field-host-pop3 = Server POP3
settings-field-port = Porta
settings-field-security = Sicurezza
settings-security-tls = TLS
settings-security-starttls = STARTTLS
settings-security-starttls-pop3 = STARTTLS (STLS)
settings-security-plain = Nessuna
settings-field-security-help = TLS è la scelta più sicura. «Nessuna» è consentita solo per un server su questo computer.
settings-field-username = Nome utente
settings-field-password = Password
settings-field-password-keep = Lascia vuoto per non cambiarla
settings-field-password-help = Conservata nel portachiavi del sistema, mai nel file di configurazione.
settings-field-password-source = Password da
settings-password-source-keyring = Il portachiavi del sistema
settings-password-source-command = Un comando
settings-field-password-command = Comando che stampa la password
settings-field-ca-file = Certificato CA aggiuntivo (file PEM)
settings-field-ca-file-help = Solo per i server che usano una propria autorità di certificazione.
settings-field-open = Un clic su una notifica apre
settings-open-default = Il programma di posta
settings-open-url = Una pagina di webmail
settings-open-command = Un comando
settings-field-enabled = Monitora questo account
settings-test = Verifica connessione
settings-testing = Verifica in corso…
settings-test-ok = Funziona tutto.
settings-test-failed = La verifica si è fermata a «{ $step }».
settings-test-hint = Cosa fare
settings-test-folders = Cartelle da monitorare
settings-test-step-password = Password
settings-test-step-tcp = Contatto con il server
settings-test-step-tls = Connessione sicura
settings-test-step-login = Accesso
settings-test-step-capabilities = Funzionalità del server
settings-test-step-folders = Cartelle
settings-test-step-mailbox = Casella di posta

## Settings → Add or edit an account: signing in at the provider (OAuth2) instead of a password.
## $provider is a brand name (Google, Microsoft, Yahoo, AOL, Fastmail).
settings-field-signin = Accedi con
settings-signin-password = Una password
settings-signin-with = Accedi con { $provider }
settings-signin-custom = Accedi con un altro provider (personalizzato)
settings-signin-button = Accedi
settings-signin-help = Apre la pagina del provider nel tuo browser. Pushmail non vede mai la tua password; l'autorizzazione ricevuta è conservata nel portachiavi del sistema.
settings-signin-waiting = Attendo fino a { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minuti
} che tu approvi nel browser…
settings-signin-url = Il browser non si è aperto, o ne usi un altro? Apri questo indirizzo:
settings-signin-copy = Copia
settings-signin-copied = Copiato
settings-signin-cancel = Annulla
settings-signin-done = Accesso eseguito. Segue la prova della connessione.
settings-signin-again-help = Accesso eseguito. Accedi di nuovo quando Pushmail te lo chiede, o per dargli una nuova autorizzazione.
settings-field-oauth-client-id = ID client
settings-field-oauth-authorization-endpoint = Endpoint di autorizzazione
settings-field-oauth-token-endpoint = Endpoint dei token
settings-field-oauth-scopes = Ambiti (scope)
settings-field-oauth-scopes-help = Separati da spazi, per esempio: openid offline_access email imap
settings-field-oauth-issuer = Emittente (facoltativo)
settings-signin-again = Premi «Accedi» per riprovare.
settings-signin-cancelled = L'accesso è stato annullato; non è stato salvato nulla.

## Settings → Folders

settings-folders-title = Cartelle
settings-folders-subtitle = Scegli le cartelle da monitorare. Di solito i nuovi messaggi arrivano in INBOX; i filtri possono smistarne alcuni in altre cartelle.
settings-folders-account = Account
settings-folders-loading = Richiesta dell'elenco delle cartelle al server…
settings-folders-reload = Ricarica elenco
settings-folders-filter = Filtra cartelle
settings-folders-missing = non presente sul server
settings-folders-container = contiene solo altre cartelle
settings-folders-watched = { $count ->
    [one] 1 cartella monitorata
   *[other] { $count } cartelle monitorate
}
settings-folders-no-accounts = Aggiungi prima un account.
settings-folders-pop3 = { $name } è un account POP3: ha una sola casella di posta, sempre controllata, e nessuna cartella da scegliere.
settings-folders-save = Salva cartelle
settings-folders-all-but-special = Tutte tranne Cestino, Indesiderata, Posta inviata e Bozze
settings-folders-all-but-special-hint = Esclude anche «Tutti i messaggi» e «Speciali», che ripetono la posta di altre cartelle. Puoi modificare la scelta prima di salvare.
settings-folder-special-all = tutti i messaggi
settings-folder-special-archive = archivio
settings-folder-special-drafts = bozze
settings-folder-special-flagged = speciali
settings-folder-special-junk = indesiderata
settings-folder-special-sent = inviata
settings-folder-special-trash = cestino

## Settings → Notifications

settings-notifications-title = Notifiche
settings-notifications-subtitle = Quando Pushmail mostra un avviso. Il conteggio nell'area di notifica si aggiorna sempre.
settings-notify-enabled = Mostra gli avvisi di notifica
settings-quiet-hours = Ore di silenzio
settings-quiet-hours-help = Nessun avviso in questa fascia oraria ogni giorno, tranne che dai mittenti VIP.
settings-quiet-from = Dalle
settings-quiet-to = Alle
settings-quiet-hours-summary = { $span ->
    [overnight] Nessun avviso dalle { $start } fino alle { $end } del mattino dopo.
   *[day] Nessun avviso dalle { $start } alle { $end }.
}
settings-vip = Mittenti VIP
settings-vip-help = La posta da questi indirizzi o @domini appare sempre, anche durante le ore di silenzio o da un account silenziato.
settings-vip-placeholder = capo@example.com oppure @famiglia.example
settings-vip-add = Aggiungi
settings-vip-remove = Rimuovi { $address }
settings-vip-invalid = Inserisci un indirizzo come ana@example.com, o un intero dominio come @example.com.
settings-vip-none = Nessun mittente VIP.
settings-summary = Raffiche di messaggi
settings-summary-threshold = Mostra un riepilogo quando arrivano insieme più di questo numero di messaggi
settings-per-account = Per account
settings-mute = Silenzia
settings-preview = L'avviso mostra
settings-preview-full = Mittente e oggetto
settings-preview-sender = Solo il mittente
settings-preview-count = Solo quanti sono

## Settings → General

settings-general-title = Generale
settings-autostart = Avvia Pushmail all'accesso
settings-autostart-help = Pushmail resta nell'area di notifica e usa poca memoria mentre attende la posta.
settings-language = Lingua
settings-language-auto = Automatica ({ $language })
settings-mail-client = Programma di posta
settings-mail-client-help = Cosa avviano «Apri» in una notifica e il menu dell'area di notifica, se un account non indica altro.
settings-mail-client-default = Il programma di posta predefinito del desktop
settings-mail-client-command = Questo comando
settings-config-file = File di configurazione
language-name-en = English
language-name-it = Italiano
language-name-zh-TW = 繁體中文
language-name-zh-CN = 简体中文
language-name-ar = العربية

## Settings → Activity

settings-activity-title = Attività
settings-activity-subtitle = Cosa ha fatto Pushmail di recente, secondo l'applicazione in esecuzione.
settings-activity-recent = Notifiche recenti
settings-activity-none = Ancora nessuna notifica.
settings-activity-problems = Problemi
settings-activity-no-problems = Nessun problema: tutti gli account funzionano.
settings-activity-what-to-do = Cosa fare
settings-activity-refresh = Aggiorna
settings-activity-unavailable = Avvia Pushmail per vedere cosa ha fatto di recente.
settings-activity-edit-account = Modifica account
settings-activity-delay-seconds = { $count ->
    [one] Mostrato entro un secondo dall'arrivo sul server
   *[other] Mostrato entro { $count } secondi dall'arrivo sul server
}
settings-activity-delay-minutes = { $count ->
    [one] Mostrato entro un minuto dall'arrivo sul server
   *[other] Mostrato entro { $count } minuti dall'arrivo sul server
}
settings-activity-delay-hours = { $count ->
    [one] Mostrato entro un'ora dall'arrivo sul server
   *[other] Mostrato entro { $count } ore dall'arrivo sul server
}
settings-activity-hint-auth_failed = Il server ha rifiutato il nome utente o la password. Modifica l'account, inserisci di nuovo la password (alcuni provider richiedono una password per le app) e salva: Pushmail riprova subito.
settings-activity-hint-error = Verifica la connessione dalla pagina dell'account per vedere quale passaggio non riesce e perché.
settings-activity-hint-backoff = Pushmail non riesce a raggiungere il server e continua a riprovare. Controlla che questo computer sia connesso a Internet; se lo è, verifica la connessione dalla pagina dell'account.

## Command line (pushmail-cli): lines a person reads in a terminal

cli-new-mail = [{ $where }] nuovo messaggio da { $from }: { $subject }
cli-new-mail-catch-up = [{ $where }] nuovo messaggio (arrivato in tua assenza) da { $from }: { $subject }
cli-unread = [{ $where }] { $count ->
    [0] nessun non letto
    [one] 1 non letto
   *[other] { $count } non letti
}
cli-seen = [{ $where }] il messaggio { $uid } è stato letto altrove
cli-strategy = Strategia: { $strategy }
cli-testing = Verifica della connessione…
cli-ask-host = Server IMAP (nome host)
cli-ask-security = Sicurezza (tls, starttls, plain)
cli-ask-port = Porta
cli-ask-username = Nome utente
cli-ask-email = Indirizzo email
cli-ask-id = Nome breve per questo account
cli-ask-password = Password per { $user }@{ $host }:
cli-account-saved = Account «{ $id }» salvato in { $path }.
cli-account-not-saved = L'account non è stato salvato. Risolvi il problema indicato sopra, oppure aggiungi --no-test per salvarlo comunque.
cli-account-removed = Account «{ $id }» rimosso.
cli-password-stored = Password di «{ $id }» salvata nel portachiavi del sistema.
cli-no-accounts = Nessun account. Aggiungine uno con: pushmail-cli account add
cli-account-disabled = (disattivato)

## Connection diagnostics: what went wrong and what to do, shown by `pushmail-cli account test`,
## Settings → Test connection and the tray's "needs attention" popup. Logs stay in English.
## Type configuration keys (ca_file, password_command, security = "tls", connect_timeout_secs…)
## and commands (pushmail-cli account password ID) exactly as here: people copy them.
## $reason is the server's or the system's own text and stays as they wrote it.

list-separator = {", "}

error-timeout = tempo scaduto durante { $step }
error-tls = connessione TLS non riuscita: { $reason }
error-starttls-unavailable = il server non offre STARTTLS, quindi la connessione non può essere cifrata
error-starttls-refused = il server ha rifiutato STARTTLS: { $reason }
error-login-disabled = il server non consente l'accesso su una connessione non cifrata
error-auth = accesso non riuscito: { $reason }
error-throttled = il server è occupato o limita le connessioni: { $reason }
error-protocol = errore di protocollo: { $reason }
error-unsafe = connessione non sicura rifiutata: { $reason }
error-secret-no-keyring = nessun portachiavi del sistema disponibile: { $reason }
error-secret-locked = il portachiavi del sistema è bloccato o ha negato l'accesso: { $reason }
error-secret-missing = nel portachiavi del sistema non c'è alcuna password per l'account `{ $id }`
error-secret-keyring = errore del portachiavi: { $reason }
error-secret-command = password_command non riuscito: { $reason }

# How a problem reads: the step it happened in, the other side's own words after it.
step-connecting = la connessione
step-tls-handshake = l'handshake TLS
step-greeting = il saluto del server
step-starttls = STARTTLS
step-capabilities = la richiesta delle funzionalità
step-logging-in = l'accesso
step-capabilities-after-login = la lettura delle funzionalità dopo l'accesso
step-listing-folders = l'elenco delle cartelle
step-asking-for-notify = la richiesta di NOTIFY
step-selecting-folder = la selezione di una cartella
step-starting-idle = l'avvio di IDLE
step-waiting-in-idle = l'attesa in IDLE
step-ending-idle = la chiusura di IDLE (il collegamento sembra interrotto)
step-marking-read = la marcatura del messaggio come letto
step-fetching-new = il recupero dei nuovi messaggi
step-listing-new = l'elenco dei nuovi messaggi
step-counting-unread = il conteggio dei messaggi non letti
step-enabling-qresync = l'attivazione di QRESYNC
step-finding-highest-uid = la ricerca dell'UID più alto
step-checking-connection = la verifica della connessione
step-asking-folder-status = la richiesta dello stato di una cartella
problem-in-step = { $step }: { $what }
problem-with-words = { $what }: { $words }
problem-no-reason = il server non ha indicato il motivo
problem-at-host = { $what } ({ $host })
net-unreachable = impossibile raggiungere { $host }:{ $port }
net-keepalive = impossibile attivare il keepalive TCP
net-tls-handshake = l'handshake TLS con { $host } non è riuscito
net-failed = la connessione non è riuscita
net-closed = il server ha chiuso la connessione
net-lost = la connessione si è interrotta
net-bye = il server ha chiuso la sessione
net-bye-instead-of-idle = il server ha chiuso la sessione invece di entrare in IDLE
limit-line = il server ha inviato una riga più lunga di { $n } byte
limit-literal = il server ha annunciato un literal più grande di { $n } byte
limit-response = il server ha inviato una risposta più grande di { $n } byte
limit-depth = il server ha annidato parentesi oltre { $n } livelli
proto-unparsable = il server ha inviato una risposta che non si può interpretare
proto-refused = il server ha rifiutato il comando
proto-greeting = saluto inatteso
proto-unrequested = il server ha inviato dati non richiesti dopo il saluto; connessione interrotta
proto-overlong-line = il server ha inviato una riga troppo lunga
proto-preauth = il server ha salutato con PREAUTH (le sessioni pre-autenticate non sono supportate)
proto-no-uidvalidity = il server non ha indicato UIDVALIDITY per { $folder }
proto-session-lost = la sessione è andata persa
proto-other = la risposta del server non è utilizzabile
proto-no-uidl = questo server POP3 non supporta UIDL, quindi Pushmail non può distinguere la posta nuova da quella già vista
proto-bad-listing = l'elenco dei messaggi inviato dal server non è coerente (un identificativo duplicato o non valido, o un numero di messaggi che non corrisponde)
proto-no-login-method = il server non offre alcun metodo di accesso che Pushmail sappia usare (USER o SASL PLAIN)
unsafe-data-before-starttls = il server ha inviato dati prima che STARTTLS fosse richiesto (possibile attacco di iniezione); connessione interrotta
unsafe-data-after-starttls = il server ha inviato dati dopo aver accettato STARTTLS (possibile attacco di iniezione); connessione interrotta
unsafe-preauth = il server ha salutato con PREAUTH, quindi STARTTLS non si può usare; connessione interrotta per non proseguire in chiaro
unsafe-foreign-tag = il server ha risposto a un comando mai inviato (possibile attacco di iniezione)
store-disk-full = il disco è pieno
store-failed = il database ha rifiutato la scrittura
error-store = impossibile scrivere il database di stato { $path }: { $reason }
error-folder-missing = la cartella { $folder } non esiste sul server
hint-folder-missing = Le altre cartelle restano sorvegliate. Se è stata rinominata, sceglila di nuovo dall'elenco del server (Impostazioni → Cartelle), oppure toglila dall'account.
config-ca-unreadable = impossibile leggere ca_file { $path }
config-ca-not-pem = ca_file { $path } non è un file di certificati PEM
config-ca-empty = ca_file { $path } non contiene certificati PEM
config-ca-damaged = ca_file { $path }: il certificato { $n } di { $count } è danneggiato; copia di nuovo il file intero
config-ca-unusable = ca_file { $path } non si può usare come certificato attendibile
config-bad-host = { $host } non è un nome host valido
config-plain-not-loopback = `security = "plain"` è consentito solo per un host locale (loopback), non per { $host }
config-unsendable-password = il nome utente o la password contiene un a capo o un altro carattere di controllo, che un accesso POP3 non può inviare; non è stato inviato nulla
tls-invalid = il certificato del server non è valido
tls-incompatible = il TLS del server è troppo vecchio o incompatibile
tls-other = la connessione TLS non è riuscita
tls-system-roots = impossibile caricare i certificati attendibili del sistema
tls-setup = configurazione TLS non riuscita

tls-unknown-issuer = il certificato del server è firmato da un'autorità sconosciuta
tls-bad-signature = il certificato del server è firmato da un'autorità sconosciuta (la firma non corrisponde alla CA attendibile che indica)
tls-expired = il certificato del server è scaduto
tls-not-valid-yet = il certificato del server non è ancora valido (controlla l'orologio di questo computer)
tls-wrong-host = il certificato del server è intestato a un altro nome host
tls-revoked = il certificato del server è stato revocato

hint-network = Controlla il nome host e la porta, e che questo computer sia connesso alla rete.
hint-server-left = Il server ha chiuso la sessione spiegando il motivo. Pushmail riprova da solo; se continua, chiedi al provider.
hint-timeout = Il server non ha risposto in tempo. Controlla host e porta oppure, su una rete lenta, aumenta connect_timeout_secs (connessione) o command_timeout_secs (comandi).
hint-tls = Il certificato del server non è attendibile per questo nome host. Se il server usa una propria autorità di certificazione, imposta ca_file nelle impostazioni dell'account; altrimenti controlla il nome host.
hint-starttls = Usa security = "tls" (di solito porta 993) se il server lo supporta, oppure chiedi al provider; Pushmail non invia mai una password senza cifratura.
hint-login-disabled = Usa security = "tls" o "starttls" per questo account.
hint-auth = Controlla il nome utente e imposta di nuovo la password (pushmail-cli account password ID). Alcuni provider richiedono una password per le app.
hint-throttled = Pushmail riproverà dopo una pausa. Altri programmi di posta potrebbero occupare tutte le connessioni consentite dal server.
hint-protocol = Il server si è comportato in modo anomalo; Pushmail riproverà. Se succede ancora, segnalalo allegando il log.
hint-no-uidl = Senza UIDL Pushmail non può sorvegliare una casella POP3. Usa IMAP per questo account, se il provider lo offre.
hint-no-login-method = Pushmail accede ai server POP3 con USER/PASS o SASL PLAIN. Chiedi al provider, oppure usa IMAP per questo account.
hint-config = Correggi l'account nel file di configurazione o nelle Impostazioni.
hint-unsafe = Pushmail non ha inviato la password. Può dipendere da una rete che interferisce con la posta (la pagina di accesso di un hotel o di un bar) oppure da un attacco: prova un'altra rete e, se continua, avvisa il tuo provider.
hint-store = Libera spazio sul disco che contiene questo file (o correggi i permessi). Pushmail riprova da solo e non ripeterà nessuna notifica.
hint-secret-no-keyring = Avvia il portachiavi del desktop (GNOME Keyring, KWallet con Secret Service) oppure usa password_command nell'account.
hint-secret-locked = Sblocca il portachiavi (accedi alla sessione del desktop), poi premi Controlla ora.
hint-secret-missing = Salvala con: pushmail-cli account password { $id }
hint-secret-keyring = Controlla che il portachiavi funzioni (ad esempio con secret-tool), poi riprova.
hint-secret-command = Esegui tu stesso il password_command dell'account e controlla che stampi la password sulla prima riga.

probe-password-keyring = trovata nel portachiavi del sistema
probe-password-command = da `{ $program }`
probe-password-typed = digitata nel modulo (verrà salvata quando salvi)
probe-cannot-reach = impossibile raggiungere { $address }: { $reason }
probe-connected = connesso a { $address }
probe-tls = { $protocol } { $cipher }; certificato { $subject } emesso da { $issuer }, valido fino a { $until }
probe-plaintext = in chiaro (solo su questo computer)
probe-logged-in = accesso eseguito come { $user }
probe-capability = { $present ->
    [yes] { $capability } sì
   *[no] { $capability } no
}
probe-folders = { $count ->
    [one] 1 cartella; monitorate: { $watched }
   *[other] { $count } cartelle; monitorate: { $watched }
}
probe-pop3-messages = { $count ->
    [one] 1 messaggio nella casella, ognuno con un identificativo unico (UIDL)
   *[other] { $count } messaggi nella casella, ognuno con un identificativo unico (UIDL)
}
probe-folder-unread = { $folder } ({ $unread } non letti)
probe-folders-missing = { $count ->
    [one] cartella monitorata che non esiste sul server: { $folders }
   *[other] cartelle monitorate che non esistono sul server: { $folders }
}

strategy-notify = NOTIFY: { $folders ->
    [one] 1 cartella
   *[other] tutte le { $folders } cartelle
} su una sola connessione
strategy-notify-one = push NOTIFY: { $home } su una sola connessione
strategy-idle = push IDLE: { $home } su una sola connessione
strategy-idle-sweep = senza NOTIFY: push su { $home }, { $others ->
    [one] 1 altra cartella controllata
   *[other] altre { $others } cartelle controllate
} ogni { $seconds } s
strategy-poll = senza IDLE: { $folders ->
    [one] 1 cartella controllata
   *[other] { $folders } cartelle controllate
} ogni { $seconds } s
strategy-pop3 = POP3: controllata ogni { $seconds } s; con POP3 non si può sapere quando leggi la posta altrove

## Account IDs: `pushmail-cli account add` and Settings → Add account
# A new account's ID is already taken by the account $existing; IDs that differ only in upper
# and lower case ("Work", "work") count as the same.
account-id-taken = Esiste già un account «{ $existing }» (gli ID che differiscono solo per maiuscole e minuscole contano come uguali); scegli un altro ID.

## pushmail-cli status
cli-status-total = { $count ->
    [0] Nessun messaggio non letto
    [one] 1 non letto
   *[other] { $count } non letti
}
cli-status-with-accounts = { $total } — { $accounts }
cli-status-account = { $name } { $count }
cli-status-problem = { $name }: { $state }
cli-status-separator = {" · "}
cli-status-not-running = Pushmail non è in esecuzione — avvialo con `pushmail`
cli-status-no-bus = Impossibile raggiungere il bus di sessione D-Bus del desktop ({ $reason }); esegui il comando nella sessione desktop in cui è in esecuzione Pushmail.
cli-status-no-answer = Pushmail non ha risposto ({ $reason }); se succede ancora, chiudilo e riavvialo.

## pushmail-cli forget-everything
cli-forget-nothing = Niente da dimenticare: Pushmail non conserva dati tuoi qui.
cli-forget-plan = Questo rimuove tutto ciò che Pushmail conserva per te:
cli-forget-confirm = Rimuovere tutto? [y/N]
cli-forget-needs-yes = Nulla è stato rimosso: l'input standard non è un terminale, quindi conferma con --yes.
cli-forget-cancelled = Annullato; nulla è stato rimosso.
cli-forget-quit-tray = Ho chiesto a Pushmail in esecuzione di chiudersi.
cli-forget-item-password = la password dell'account «{ $id }» nel portachiavi del sistema
cli-forget-item-autostart = la voce di avvio all'accesso { $path }
cli-forget-item-state = il database di stato { $path } (quali messaggi sono stati annunciati)
cli-forget-item-config = la configurazione { $path }
cli-forget-removed = Rimosso: { $what }
cli-forget-done = Pushmail ha dimenticato tutto. I programmi restano installati; rimuovili con: sudo apt purge pushmail pushmail-settings

## Sign-in (OAuth2)

state-signin_required = accesso richiesto
probe-signin-token = un token di accesso da { $provider }
error-signin-required = l'accesso a { $provider } non è più valido (la password è cambiata o l'accesso è stato revocato)
hint-signin-required = Accedi di nuovo: Impostazioni → Account → Accedi, oppure pushmail-cli account login ID.
error-signin-client = { $provider } non accetta la registrazione di questa applicazione (client id)
hint-signin-client = Imposta un client id registrato per Pushmail con oauth_client_id (docs/configuration.md, “Sign-in”).
error-signin-admin = la tua organizzazione deve approvare Pushmail presso { $provider } prima che tu possa accedere
hint-signin-admin = Chiedi all'amministratore IT di consentire Pushmail alla tua organizzazione, poi accedi di nuovo.
error-signin-no-client-id = nessun client id è impostato per accedere a { $provider }
error-signin-settings = le impostazioni di accesso per { $provider } non possono funzionare
error-signin-unavailable = il server di accesso di { $provider } non è raggiungibile
error-signin-no-mechanism = il server non offre l'accesso con un token (OAUTHBEARER o XOAUTH2)
hint-signin-no-mechanism = Controlla il nome del server, oppure usa una password per questo server.
error-signin-passwords-refused = il server non accetta più le password
hint-signin-passwords-refused = Passa questo account all'accesso tramite il provider: Impostazioni → Account, oppure auth = "oauth2" e oauth_provider nella configurazione.
notify-signin-title = Accedi di nuovo a { $account }
notify-signin-action = Accedi…

## CLI sign-in: `pushmail-cli account login ID` and `account add --auth oauth2`.
cli-signin-open = Apri questo indirizzo nel browser per accedere: { $url }
cli-signin-waiting-minutes = Attendo fino a { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minuti
} che tu approvi nel browser…
cli-signin-waiting-seconds = Attendo fino a { $seconds ->
    [one] 1 secondo
   *[other] { $seconds } secondi
} che tu approvi nel browser…
cli-signin-no-browser = Impossibile aprire un browser; apri tu l'indirizzo qui sopra.
cli-signin-done = Accesso eseguito: l'account «{ $id }» usa l'accesso { $provider }, conservato nel portachiavi del sistema.
cli-signin-tray-reloaded = Pushmail in esecuzione userà il nuovo accesso.
cli-signin-tray-not-told = Impossibile avvisare Pushmail in esecuzione ({ $reason }); userà il nuovo accesso al prossimo avvio.
cli-signin-not-oauth = L'account «{ $id }» usa una password, non un accesso: imposta prima auth = "oauth2" e oauth_provider (docs/configuration.md, “Sign-in”).
cli-signin-no-password = L'account «{ $id }» accede presso il suo provider e non ha password: usa pushmail-cli account login { $id }.
cli-signin-again = Esegui pushmail-cli account login { $id } per riprovare.
cli-signin-timed-out = L'accesso non è stato completato entro { $seconds } s; non è stato salvato nulla.
cli-signin-denied = L'accesso è stato negato nella pagina del provider; non è stato salvato nulla.
cli-signin-wrong-state = È arrivata una risposta che non appartiene a questo accesso (forse contraffatta, o rimasta da un tentativo precedente); non è stato salvato nulla.
cli-signin-wrong-issuer = La risposta all'accesso proviene da un server diverso dal provider; non è stato salvato nulla.
cli-signin-provider-error = Il provider ha terminato l'accesso con un errore ({ $code }); non è stato salvato nulla.
cli-signin-bad-redirect = La risposta all'accesso non è quella attesa da Pushmail; non è stato salvato nulla.
cli-signin-listener = Impossibile attendere la risposta all'accesso su questo computer ({ $reason }).
cli-signin-no-refresh-token = Il provider ti ha fatto accedere ma senza un permesso duraturo (nessun refresh token), quindi Pushmail non può restare connesso; non è stato salvato nulla.
cli-signin-no-refresh-token-hint = Verifica che gli scope includano l'accesso offline (oauth_scopes, per esempio offline_access), poi accedi di nuovo.
cli-signin-later = Accedi prima che Pushmail possa controllarlo: pushmail-cli account login { $id }
cli-account-signin = accesso ({ $provider })
cli-forget-item-signin = l'accesso dell'account «{ $id }» nel portachiavi del sistema
cli-signin-page-success = Accesso eseguito. Puoi chiudere questa scheda e tornare a Pushmail.
cli-signin-page-failure = L'accesso non è stato completato. Torna a Pushmail per vedere perché.

## Provider notes: what the user must do at the provider before Pushmail can log in.
## $provider is the provider's brand name: keep it as it is.
provider-note-app-password = Per usare una password con { $provider }, crea una password per le app nelle impostazioni di sicurezza del tuo account { $provider } e inseriscila qui: la password abituale viene rifiutata.
provider-note-enable-imap = Prima attiva l'accesso IMAP: accedi a { $provider } dal web e abilitalo nelle impostazioni della posta. Finché non lo fai, il server rifiuta Pushmail.
provider-note-authorization-code = { $provider } richiede un codice di autorizzazione al posto della password: attiva IMAP nelle impostazioni della webmail di { $provider }, genera lì un codice di autorizzazione e inseriscilo come password.

## Account discovery: finding the settings from the address (Settings and pushmail-cli).
## $where is a place being looked at (a web address, a server name, or one of the phrases below).
discover-looking = Ricerca in { $where }…
discover-looking-providers = l'elenco dei provider noti
discover-looking-mx = i server di posta (MX) di { $domain }
discover-looking-srv = i record di servizio DNS { $name }
discover-source-provider-list = dall'elenco dei provider ({ $provider })
discover-source-provider-mx = dall'elenco dei provider: la posta di questo dominio arriva a { $provider } ({ $mx })
discover-source-autoconfig = dalla configurazione pubblicata da { $domain }
discover-source-autoconfig-mx = dalla configurazione del fornitore di posta di { $domain } ({ $mx })
discover-source-srv = dal record di servizio DNS di { $domain } ({ $record })
discover-source-guess = ipotesi: { $host } ha risposto con un certificato valido
discover-warning-outside = { $host } non fa parte di { $domain }: appartiene a { $owner }. Usalo solo se ti aspettavi questo server.
discover-warning-look-alike = { $domain } non è { $imitates }: gli somiglia soltanto. Controlla l'indirizzo prima di dargli una password.
discover-warning-insecure = Queste impostazioni sono arrivate senza cifratura da { $url } e potrebbero essere state alterate lungo il percorso.
discover-not-found = Nessuna impostazione trovata per { $domain }. Inserisci il server a mano.
discover-login-password = con una password
discover-login-signin = accedendo con { $provider }
cli-discover-found = Impostazioni trovate per { $address }, { $source }:
cli-discover-server = Server:      { $server } ({ $security })
cli-discover-user = Nome utente: { $user }, { $login }
cli-discover-check = Controlla:   { $warning }
cli-discover-confirm = Usare queste impostazioni? [S/n]
cli-discover-needs-yes = Ho trovato delle impostazioni, ma non c'è un terminale per confermarle: aggiungi --yes per usarle, oppure indica il server con --host.
cli-discover-declined = Nulla è stato salvato. Indica tu le impostazioni con --host, --port, --security e --username.

## Impostazioni → Aggiungi account, a partire dall'indirizzo (ui/src/pages/addAccount.ts).
## $address è un indirizzo e-mail: lascialo com'è.
settings-add-intro = Inserisci il tuo nome e il tuo indirizzo e-mail: Pushmail cerca per te le impostazioni del server e ti chiede la password solo dopo che le hai controllate.
settings-add-name = Nome (facoltativo)
settings-add-email-help = Le impostazioni vengono cercate a partire dal dominio. Viene inviato solo l'indirizzo, mai una password.
settings-add-continue = Continua
settings-add-manual = Configura manualmente
settings-add-looking = Ricerca delle impostazioni per { $address }…
settings-add-notes = Cosa è stato provato
settings-add-found-title = Impostazioni trovate per { $address }
settings-add-check = Controlla prima di continuare
settings-add-login = Accesso
settings-add-source = Trovate
settings-add-test-save = Verifica e salva

## Impostazioni → Attività: "Apri" su una notifica apre quel messaggio, come nel suo popup.

settings-activity-open = Apri
# A toast when the tray is not running.
settings-activity-open-not-running = Pushmail non è in esecuzione, quindi non può aprire il messaggio. Avvia Pushmail e riprova.
# A toast; $message is the tray's own sentence (e.g. no default mail application is set).
settings-activity-open-failed = Impossibile aprire il messaggio: { $message }
