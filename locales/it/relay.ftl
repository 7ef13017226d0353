# L'app web del relay (ui/relay.html, ui/src/relay/). Vedi locales/en/relay.ftl.

relay-app-name = Pushmail relay
relay-loading = Caricamento…

## Accesso

relay-signin-title = Accedi
relay-signin-help = Inserisci il token di accesso che ti ha dato chi gestisce il relay. Lo crea con questo comando:
relay-signin-token = Token di accesso
relay-signin-button = Accedi
relay-signin-rejected = Il relay non ha accettato questo token. Controllalo o chiedine uno nuovo.
relay-signin-expired = Il tuo token di accesso non è più accettato. Accedi di nuovo.
relay-signout = Esci

## Navigazione e titoli

relay-nav-mailboxes = Caselle
relay-nav-devices = Dispositivi
relay-nav-webhooks = Webhook
relay-title-mailboxes = Caselle di posta
relay-title-add-mailbox = Aggiungi casella
relay-title-devices = Dispositivi
relay-title-webhooks = Webhook

## Errori

relay-error-title = Non ha funzionato
relay-error-network = Impossibile raggiungere il relay. Controlla la connessione e riprova.
relay-error-slow-down = Troppe richieste. Attendi un momento e riprova.
relay-error-status = Il relay ha risposto con un errore (HTTP { $status }).
relay-error-auth_failed = Il server di posta ha rifiutato nome utente o password
relay-error-unreachable = Il server di posta non è raggiungibile
relay-error-tls_failed = Nessuna connessione sicura con il server di posta
relay-error-connect_failed = Impossibile connettersi al server di posta
relay-error-host_not_allowed = Il relay non si connette a questo server
relay-error-bad_field = Alcuni campi non sono corretti
relay-error-missing_field = Alcuni campi sono vuoti
relay-error-bad_port = La porta non è corretta
relay-form-incomplete = Compila i campi evidenziati.
relay-error-bad_address = L'indirizzo email non è valido
relay-error-bad_host = Il nome del server non è corretto
relay-error-bad_security = L'impostazione di sicurezza non è corretta
relay-error-unknown_provider = Il relay non offre questo accesso
relay-error-limit = Hai raggiunto il limite del relay
relay-error-not_found = Non esiste più
relay-error-signin_unavailable = Questo relay non offre l'accesso presso un provider
relay-error-not_signin = Questa casella accede con una password

## Trovare le impostazioni di una casella dal suo indirizzo (il relay usa la ricerca dell'app desktop)

relay-discover-button = Trova impostazioni
relay-discover-looking = Ricerca delle impostazioni per { $address }…
relay-discover-found = Impostazioni trovate: controllale, poi inserisci la password.
relay-discover-source = Da dove vengono:
relay-discover-none = Nessuna impostazione trovata per { $domain }: compilale qui sotto
relay-discover-signin = { $provider } richiede l'accesso con { $signin }, che questo relay non offre; usa una password per app se il tuo provider lo consente
relay-discover-address = Inserisci prima il tuo indirizzo email, ad esempio ana@example.com.


## Accesso di una casella presso il suo provider (OAuth2) al posto della password. $signin e
## $provider sono il nome di un provider di accesso (Google, Microsoft o uno scelto dal gestore
## del relay); $provider in relay-oauth-offer-title è quello del provider di posta (Gmail).

relay-oauth-offer-title = Impostazioni trovate: { $provider } usa l'accesso con { $signin }.
relay-oauth-offer-help = Accedi sulla pagina di { $signin } e autorizzi il relay a leggere la tua posta per gli avvisi; il relay non vede mai la tua password.
relay-oauth-found = Impostazioni trovate: controllale, poi accedi con { $signin }.
relay-oauth-help = Accedi sulla pagina di { $provider }; il relay non vede mai la tua password.
relay-oauth-manual = Configura a mano
relay-oauth-opening = Apertura della pagina di accesso di { $provider }…
relay-oauth-bad-url = Il relay non ha fornito un indirizzo di accesso utilizzabile.
relay-oauth-done = Accesso eseguito per { $name }: il relay ora la controlla.
relay-oauth-done-unnamed = Accesso eseguito per la casella: il relay ora la controlla.
relay-oauth-failed-title = L'accesso non è stato completato
relay-oauth-failed-denied = L'accesso è stato rifiutato presso il provider (da te o da una regola della tua organizzazione). Non è stato salvato nulla.
relay-oauth-failed-wrong_browser = L'accesso è stato concluso in un browser diverso da quello in cui era iniziato, quindi il relay lo ha rifiutato per sicurezza. Ricomincia e concludilo in questo browser.
relay-oauth-failed-expired = L'accesso ha richiesto troppo tempo, oppure il suo link era già stato usato. Ricomincia.
relay-oauth-failed-no_refresh_token = Il provider ti ha fatto accedere ma senza un'autorizzazione duratura, quindi il relay non potrebbe continuare a controllare la casella. Non è stato salvato nulla; il gestore del relay potrebbe dover cambiare le impostazioni di questo provider.
relay-oauth-failed-login_failed = Hai eseguito l'accesso, ma il server di posta ha rifiutato il login o non era raggiungibile. Non è stato salvato nulla: controlla le impostazioni del server e riprova.
relay-oauth-failed-provider = Il provider ha interrotto l'accesso con un errore. Non è stato salvato nulla.
relay-oauth-failed-failed = Qualcosa è andato storto durante l'accesso. Non è stato salvato nulla.
relay-oauth-required = Accedi di nuovo a { $provider }: l'autorizzazione è stata revocata o è scaduta
relay-oauth-required-unnamed = Accedi di nuovo: l'autorizzazione è stata revocata o è scaduta
relay-oauth-again = Accedi di nuovo

## Caselle

relay-mailboxes-subtitle = Il relay controlla queste caselle e avvisa i tuoi dispositivi della posta nuova.
relay-mailboxes-empty = Ancora nessuna casella. Aggiungine una per ricevere avvisi della sua posta nuova.
relay-add-mailbox = Aggiungi casella
relay-add-mailbox-subtitle = Il relay prova la connessione prima di tenere la casella.
relay-password-help = Conservata dal relay, cifrata. Va bene una password per app, se il tuo provider le offre.
relay-mailbox-added = { $name } aggiunta.
relay-mailbox-remove-confirm = Rimuovere { $name }? Il relay smette di controllarla e dimentica la sua password. La posta sul server non viene toccata.
relay-mailbox-removed = Casella rimossa.
relay-remove = Rimuovi
relay-state-watching = in ascolto
relay-state-starting = avvio…
relay-state-connecting = connessione in corso…
relay-state-auth_failed = password errata
relay-state-unreachable = server irraggiungibile
relay-state-error = errore
relay-state-backoff = offline, nuovo tentativo
relay-state-disabled = in pausa
relay-state-unknown = sconosciuto

## Dispositivi

relay-devices-subtitle = Telefoni e browser che ricevono un avviso quando arriva posta nuova.
relay-this-device = Questo dispositivo
relay-this-device-off = Ricevi un avviso su questo dispositivo quando arriva posta nuova nelle tue caselle.
relay-this-device-on = Avvisi attivi
relay-notify-this-device = Avvisa questo dispositivo
relay-subscribing = Richiesta al browser…
relay-test-on-its-way = Una notifica di prova è in arrivo.
relay-send-test = Invia un avviso di prova
relay-stop-notifying = Non avvisare più questo dispositivo
relay-stopped = Questo dispositivo non riceve più avvisi.
relay-saved = Salvato.
relay-device-name = { $browser } su { $system }
relay-device-unnamed = Dispositivo senza nome
relay-device-remove-confirm = Rimuovere { $name }? Non riceverà più avvisi.
relay-device-removed = Dispositivo rimosso.
relay-other-devices = Altri dispositivi
relay-other-devices-empty = Nessun altro dispositivo.
relay-since = dal { $date }
relay-detail-legend = Un avviso mostra
relay-detail-none = Solo “Nuova posta in Lavoro”
relay-detail-sender = Mittente
relay-detail-subject = Mittente e oggetto
relay-detail-short-none = Solo la casella
relay-detail-short-sender = Mittente
relay-detail-short-subject = Mittente e oggetto
relay-detail-help = Gli avvisi passano dal servizio push del browser, cifrati per questo dispositivo; meno dettagli, meno cose visibili a schermo bloccato.
relay-push-denied = Le notifiche sono bloccate per questo sito. Consentile nelle impostazioni del sito del browser e riprova.
relay-push-unsupported = Questo browser non può ricevere avvisi push.
relay-push-ios = Su iPhone e iPad aggiungi prima questa pagina alla schermata Home (Condividi → Aggiungi a Home), poi aprila da lì.
relay-push-failed = Il browser non è riuscito a iscriversi agli avvisi.

## Webhook

relay-webhooks-subtitle = Il relay invia un avviso a questi indirizzi quando arriva posta nuova, firmato con il segreto del webhook.
relay-webhooks-list = Webhook
relay-webhooks-empty = Nessun webhook.
relay-webhook-disabled = fermo: continuava a fallire. Aggiungilo di nuovo per riavviarlo.
relay-webhook-add-title = Aggiungi un webhook
relay-webhook-url = Indirizzo (URL)
relay-webhook-add = Aggiungi webhook
relay-webhook-url-invalid = Inserisci un indirizzo che inizia con https:// o http://.
relay-webhook-secret = Segreto
relay-webhook-secret-once = Il segreto per { $url }. Copialo ora: non verrà più mostrato.
relay-copy = Copia
relay-copied = Copiato.
relay-copy-failed = Impossibile copiare: seleziona il testo e copialo.
relay-webhook-remove-confirm = Rimuovere il webhook { $url }?
relay-webhook-removed = Webhook rimosso.
