# Pushmail — 繁體中文（臺灣）。
# 翻譯自 locales/en/pushmail.ftl（參考目錄：每個鍵都必須存在於其中）。
# 用語依照 Thunderbird 的臺灣正體中文版：帳號、資料夾、收件匣、未讀。

app-name = Pushmail

## Tray: tooltip and icon title

tray-unread-total = { $count ->
    [0] 沒有未讀郵件
   *[other] { $count } 封未讀郵件
}
tray-paused = 通知已暫停
tray-paused-until = 通知已暫停至 { $time }
tray-paused-until-tomorrow = 通知已暫停至明天 { $time }

## Accounts: one line per account, in the tray menu and the tooltip

account-line = { $name } — { $count ->
    [0] 沒有未讀
   *[other] { $count } 封未讀
}
account-line-state = { $name } — { $state }
state-connecting = 正在連線…
state-push = 已連線
state-polling = 每 { $seconds } 秒檢查一次
state-backoff = 離線，正在重試
state-error = 錯誤
state-auth_failed = 密碼遭拒
state-stopped = 已停止
state-disabled = 已停用

## Tray menu

menu-open-mail-client = 開啟郵件軟體
menu-check-now = 立即檢查
menu-pause = 暫停通知
menu-pause-30m = 30 分鐘
menu-pause-1h = 1 小時
menu-pause-tomorrow = 直到明天早上
menu-resume = 恢復通知
menu-settings = 設定…
menu-quit = 結束

## Notifications

notify-action-open = 開啟
notify-action-mark-read = 標示為已讀
notify-summary-title = { $count ->
   *[other] { $account } 有 { $count } 封新郵件
}
notify-summary-from = { $others ->
    [0] 來自 { $names }
   *[other] 來自 { $names } 及另外 { $others } 人
}
notify-count-only = { $count ->
   *[other] { $account } 有 { $count } 封新郵件
}
sender-unknown = （不明寄件者）
subject-none = （無主旨）
subject-unreadable = （無法讀取這封郵件）
notify-attention-title = { $account } 需要處理

## Tray process (pushmail): extra lines

account-line-with-state = { $line }（{ $state }）
notify-sender-only-body = { $account } 有新郵件
notify-attention-body = { $detail }
open-failed-title = 無法開啟您的郵件
open-no-mail-client = 尚未設定預設的郵件應用程式。請在桌面環境的設定中為電子郵件連結選擇一個，或在 Pushmail 的「設定 → 一般」中設定開啟指令。
open-failed-command = 無法啟動 { $program }：{ $reason }
config-error-title = Pushmail 的設定檔有錯誤

## Settings window (pushmail-settings, ui/)

settings-window-title = Pushmail 設定
settings-loading = 載入中…
settings-nav-label = 設定分類
settings-nav-accounts = 帳號
settings-nav-folders = 資料夾
settings-nav-notifications = 通知
settings-nav-general = 一般
settings-nav-activity = 活動紀錄
settings-tray-running = Pushmail 執行中
settings-tray-stopped = Pushmail 未執行
settings-tray-unreachable = 無法與 Pushmail 連絡
settings-tray-start = 啟動 Pushmail
settings-tray-starting = 正在啟動…
settings-tray-started = Pushmail 已在執行。
settings-tray-stopped-banner = Pushmail 未執行，因此沒有即時狀態可以顯示。您的設定已儲存，會在 Pushmail 啟動時生效。

settings-save = 儲存
settings-saving = 正在儲存…
settings-cancel = 取消
settings-back = 返回
settings-saved = 已儲存。
settings-saved-not-running = 已儲存。Pushmail 未執行，變更將在它啟動時生效。
settings-saved-reload-failed = 已儲存，但執行中的 Pushmail 未套用變更：{ $message }
settings-required = 必填

settings-error-invalid = 請檢查此欄位
settings-error-config_unreadable = 設定檔需要修正
settings-error-config_write = 無法儲存設定
settings-error-not_found = 該帳號已不存在
settings-error-keyring = 鑰匙圈無法完成操作
settings-error-connect = 無法連線到伺服器
settings-error-tray_not_running = Pushmail 未執行
settings-error-tray = Pushmail 沒有回應
settings-error-spawn = 無法啟動 Pushmail
settings-error-io = 發生錯誤
settings-error-internal = 發生錯誤
settings-error-sign_in = 登入未完成
settings-config-broken = 「設定」不會修改無法讀取的檔案。請修正該檔案，或將它移到別處以重新開始，然後再次開啟「設定」。

## Settings → Accounts

settings-accounts-title = 帳號
settings-accounts-subtitle = Pushmail 會留意這些信箱的新郵件。
settings-welcome = 歡迎使用 Pushmail。請新增您想收到通知的郵件帳號。
settings-account-add = 新增帳號
settings-account-edit = 編輯
settings-account-remove = 移除
settings-account-check-now = 立即檢查
settings-account-unread = { $count ->
    [0] 沒有未讀郵件
   *[other] { $count } 封未讀
}
settings-account-no-live-state = 無即時狀態
settings-account-remove-confirm = 要移除 { $name } 嗎？其密碼也會從鑰匙圈中刪除。伺服器上的郵件不受影響。
settings-account-removed = 已移除帳號。
settings-account-saved = 已儲存帳號。
settings-account-folders = { $count ->
   *[other] { $count } 個資料夾
}

settings-account-delay-seconds = 新郵件通常在抵達伺服器後 { $count } 秒內顯示
settings-account-delay-minutes = 新郵件通常在抵達伺服器後 { $count } 分鐘內顯示
settings-account-delay-hours = 新郵件通常在抵達伺服器後 { $count } 小時內顯示
settings-account-delay-basis = 過去 24 小時內 { $count } 封郵件的中位數

## Settings → Add or edit an account

settings-account-new-title = 新增帳號
settings-account-edit-title = 編輯 { $name }
settings-account-intro = Pushmail 透過 IMAP 或 POP3 連線，只讀取新郵件的標頭。
settings-section-identity = 帳號
settings-section-server = 伺服器
settings-section-advanced = 進階
settings-field-name = 名稱
settings-field-name-help = 顯示在系統匣選單和通知中。
settings-field-email = 電子郵件地址
settings-field-id = 帳號 ID
settings-field-id-help = 簡短且不可更改：用來命名鑰匙圈中的密碼。可使用字母、數字、- 和 _。
settings-field-protocol = 協定
settings-protocol-imap = IMAP
settings-protocol-pop3 = POP3
settings-field-protocol-pop3-help = POP3 不支援即時推送：Pushmail 每 { $seconds } 秒檢查一次，絕不刪除或更改伺服器上的任何內容，也無法得知你何時在別處讀過郵件；計數顯示的是你上次開啟郵件軟體以來的新郵件。
settings-field-host = IMAP 伺服器
settings-field-host-pop3 = POP3 伺服器
settings-field-port = 連接埠
settings-field-security = 安全性
settings-security-tls = TLS
settings-security-starttls = STARTTLS
settings-security-starttls-pop3 = STARTTLS（STLS）
settings-security-plain = 無
settings-field-security-help = TLS 最安全。「無」僅適用於本機上的伺服器。
settings-field-username = 使用者名稱
settings-field-password = 密碼
settings-field-password-keep = 留空以保留已儲存的密碼
settings-field-password-help = 保存在作業系統的鑰匙圈中，絕不寫入設定檔。
settings-field-password-source = 密碼來源
settings-password-source-keyring = 作業系統鑰匙圈
settings-password-source-command = 指令
settings-field-password-command = 會輸出密碼的指令
settings-field-ca-file = 額外的 CA 憑證（PEM 檔案）
settings-field-ca-file-help = 僅適用於使用自有憑證授權單位的伺服器。
settings-field-open = 點選通知時開啟
settings-open-default = 郵件軟體
settings-open-url = 網頁郵件頁面
settings-open-command = 指令
settings-field-enabled = 監看此帳號
settings-test = 測試連線
settings-testing = 正在測試…
settings-test-ok = 一切正常。
settings-test-failed = 測試在「{ $step }」停止。
settings-test-hint = 解決方式
settings-test-folders = 要監看的資料夾
settings-test-step-password = 密碼
settings-test-step-tcp = 連線到伺服器
settings-test-step-tls = 安全連線
settings-test-step-login = 登入
settings-test-step-capabilities = 伺服器功能
settings-test-step-folders = 資料夾
settings-test-step-mailbox = 信箱

## Settings → Add or edit an account: signing in at the provider (OAuth2) instead of a password.
## $provider is a brand name (Google, Microsoft, Yahoo, AOL, Fastmail).
settings-field-signin = 登入方式
settings-signin-password = 密碼
settings-signin-with = 使用 { $provider } 登入
settings-signin-custom = 使用其他提供者登入（自訂）
settings-signin-button = 登入
settings-signin-help = 在你的網頁瀏覽器中開啟提供者的頁面。Pushmail 永遠不會看到你的密碼；它取得的授權保存在系統鑰匙圈中。
settings-signin-waiting = 正在等待你在瀏覽器中核准（最多 { $minutes } 分鐘）…
settings-signin-url = 瀏覽器沒有開啟，或你使用另一個瀏覽器？請開啟此網址：
settings-signin-copy = 複製
settings-signin-copied = 已複製
settings-signin-cancel = 取消
settings-signin-done = 已登入。接著測試連線。
settings-signin-again-help = 已登入。當 Pushmail 提示時，或要授予新的權限時，請重新登入。
settings-field-oauth-client-id = 用戶端 ID
settings-field-oauth-authorization-endpoint = 授權端點
settings-field-oauth-token-endpoint = 權杖端點
settings-field-oauth-scopes = 範圍
settings-field-oauth-scopes-help = 以空格分隔，例如：openid offline_access email imap
settings-field-oauth-issuer = 簽發者（選填）
settings-signin-again = 按「登入」重試。
settings-signin-cancelled = 登入已取消；未儲存任何內容。

## Settings → Folders

settings-folders-title = 資料夾
settings-folders-subtitle = 選擇要監看的資料夾。新郵件通常會送到 INBOX（收件匣）；篩選器可能會把部分郵件分到其他資料夾。
settings-folders-account = 帳號
settings-folders-loading = 正在向伺服器取得資料夾清單…
settings-folders-reload = 重新載入清單
settings-folders-filter = 篩選資料夾
settings-folders-missing = 伺服器上沒有
settings-folders-container = 只包含其他資料夾
settings-folders-watched = { $count ->
   *[other] 監看 { $count } 個資料夾
}
settings-folders-no-accounts = 請先新增帳號。
settings-folders-pop3 = { $name } 是 POP3 帳號：只有一個信箱，一律會監看，沒有資料夾可選。
settings-folders-save = 儲存資料夾
settings-folders-all-but-special = 除垃圾桶、垃圾郵件、寄件備份和草稿外的全部資料夾
settings-folders-all-but-special-hint = 也會略過「所有郵件」和「已加星號」，因為它們重複其他資料夾的郵件。儲存前仍可自行調整。
settings-folder-special-all = 所有郵件
settings-folder-special-archive = 封存
settings-folder-special-drafts = 草稿
settings-folder-special-flagged = 已加星號
settings-folder-special-junk = 垃圾郵件
settings-folder-special-sent = 寄件備份
settings-folder-special-trash = 垃圾桶

## Settings → Notifications

settings-notifications-title = 通知
settings-notifications-subtitle = Pushmail 何時顯示彈出通知。系統匣中的數字一律會更新。
settings-notify-enabled = 顯示彈出通知
settings-quiet-hours = 勿擾時段
settings-quiet-hours-help = 每天這段時間不顯示彈出通知，VIP 寄件者除外。
settings-quiet-from = 從
settings-quiet-to = 到
settings-quiet-hours-summary = { $span ->
    [overnight] 從 { $start } 到隔天早上 { $end } 不顯示彈出通知。
   *[day] 從 { $start } 到 { $end } 不顯示彈出通知。
}
settings-vip = VIP 寄件者
settings-vip-help = 來自這些地址或 @網域的郵件一律會彈出通知，即使在勿擾時段或來自已靜音的帳號。
settings-vip-placeholder = boss@example.com 或 @family.example
settings-vip-add = 新增
settings-vip-remove = 移除 { $address }
settings-vip-invalid = 請輸入像 ana@example.com 這樣的地址，或像 @example.com 這樣的整個網域。
settings-vip-none = 沒有 VIP 寄件者。
settings-summary = 大量郵件同時到達
settings-summary-threshold = 同時到達的郵件超過此數量時，合併為一則摘要
settings-per-account = 個別帳號
settings-mute = 靜音
settings-preview = 彈出通知顯示
settings-preview-full = 寄件者與主旨
settings-preview-sender = 僅寄件者
settings-preview-count = 僅郵件數量

## Settings → General

settings-general-title = 一般
settings-autostart = 登入時啟動 Pushmail
settings-autostart-help = Pushmail 待在系統匣中，等待郵件時只占用很少的記憶體。
settings-language = 語言
settings-language-auto = 自動（{ $language }）
settings-mail-client = 郵件軟體
settings-mail-client-help = 通知中的「開啟」和系統匣選單所啟動的程式，除非帳號另有設定。
settings-mail-client-default = 桌面環境預設的郵件應用程式
settings-mail-client-command = 此指令
settings-config-file = 設定檔
language-name-en = English
language-name-it = Italiano
language-name-zh-TW = 繁體中文
language-name-zh-CN = 简体中文
language-name-ar = العربية

## Settings → Activity

settings-activity-title = 活動紀錄
settings-activity-subtitle = 執行中的 Pushmail 最近做了什麼。
settings-activity-recent = 最近的通知
settings-activity-none = 尚無通知。
settings-activity-problems = 問題
settings-activity-no-problems = 沒有問題：所有帳號都正常。
settings-activity-what-to-do = 解決方式
settings-activity-refresh = 重新整理
settings-activity-unavailable = 啟動 Pushmail 即可查看它最近做了什麼。
settings-activity-edit-account = 編輯帳號
settings-activity-delay-seconds = 抵達伺服器後 { $count } 秒內顯示
settings-activity-delay-minutes = 抵達伺服器後 { $count } 分鐘內顯示
settings-activity-delay-hours = 抵達伺服器後 { $count } 小時內顯示
settings-activity-hint-auth_failed = 伺服器拒絕了使用者名稱或密碼。請編輯帳號、重新輸入密碼（部分服務商需要應用程式密碼）並儲存：Pushmail 會立即重試。
settings-activity-hint-error = 請在帳號頁面測試連線，查看哪個步驟失敗以及原因。
settings-activity-hint-backoff = Pushmail 無法連線到伺服器，正在持續重試。請確認這台電腦已連上網路；若已連線，請在帳號頁面測試連線。

## Command line (pushmail-cli): lines a person reads in a terminal

cli-new-mail = [{ $where }] 來自 { $from } 的新郵件：{ $subject }
cli-new-mail-catch-up = [{ $where }] 離開期間收到來自 { $from } 的新郵件：{ $subject }
cli-unread = [{ $where }] { $count ->
    [0] 沒有未讀
   *[other] { $count } 封未讀
}
cli-seen = [{ $where }] 郵件 { $uid } 已在其他地方讀取
cli-strategy = 策略：{ $strategy }
cli-testing = 正在測試連線…
cli-ask-host = IMAP 伺服器（主機名稱）
cli-ask-security = 安全性（tls、starttls、plain）
cli-ask-port = 連接埠
cli-ask-username = 使用者名稱
cli-ask-email = 電子郵件地址
cli-ask-id = 此帳號的簡稱
cli-ask-password = { $user }@{ $host } 的密碼：
cli-account-saved = 帳號「{ $id }」已儲存至 { $path }。
cli-account-not-saved = 帳號未儲存。請修正上述問題，或加上 --no-test 以直接儲存。
cli-account-removed = 已移除帳號「{ $id }」。
cli-password-stored = 「{ $id }」的密碼已存入作業系統鑰匙圈。
cli-no-accounts = 沒有帳號。請用此指令新增：pushmail-cli account add
cli-account-disabled = （已停用）

## Connection diagnostics: what went wrong and what to do, shown by `pushmail-cli account test`,
## Settings → Test connection and the tray's "needs attention" popup. Logs stay in English.
## Type configuration keys (ca_file, password_command, security = "tls", connect_timeout_secs…)
## and commands (pushmail-cli account password ID) exactly as here: people copy them.
## $reason is the server's or the system's own text and stays as they wrote it.

list-separator = {"、"}

error-timeout = { $step }逾時
error-tls = TLS 失敗：{ $reason }
error-starttls-unavailable = 伺服器不提供 STARTTLS，因此無法加密連線
error-starttls-refused = 伺服器拒絕了 STARTTLS：{ $reason }
error-login-disabled = 伺服器不允許在未加密的連線上登入
error-auth = 登入失敗：{ $reason }
error-throttled = 伺服器忙碌或限制了連線數：{ $reason }
error-protocol = 通訊協定錯誤：{ $reason }
error-unsafe = 已拒絕不安全的連線：{ $reason }
error-secret-no-keyring = 沒有可用的作業系統鑰匙圈：{ $reason }
error-secret-locked = 作業系統鑰匙圈已鎖定或拒絕存取：{ $reason }
error-secret-missing = 作業系統鑰匙圈中沒有帳號 `{ $id }` 的密碼
error-secret-keyring = 鑰匙圈發生錯誤：{ $reason }
error-secret-command = password_command 執行失敗：{ $reason }

# How a problem reads: the step it happened in, the other side's own words after it.
step-connecting = 連線
step-tls-handshake = TLS 交握
step-greeting = 等待伺服器問候
step-starttls = STARTTLS
step-capabilities = 讀取伺服器功能
step-logging-in = 登入
step-capabilities-after-login = 登入後讀取伺服器功能
step-listing-folders = 列出資料夾
step-asking-for-notify = 要求 NOTIFY
step-selecting-folder = 選取資料夾
step-starting-idle = 啟動 IDLE
step-waiting-in-idle = 在 IDLE 中等待
step-ending-idle = 結束 IDLE（連線似乎已中斷）
step-marking-read = 將郵件標示為已讀
step-fetching-new = 取得新郵件
step-listing-new = 列出新郵件
step-counting-unread = 計算未讀郵件
step-enabling-qresync = 啟用 QRESYNC
step-finding-highest-uid = 尋找最大的 UID
step-checking-connection = 檢查連線
step-asking-folder-status = 查詢資料夾狀態
problem-in-step = { $step }：{ $what }
problem-with-words = { $what }：{ $words }
problem-no-reason = 伺服器沒有說明原因
problem-at-host = { $what }（{ $host }）
net-unreachable = 無法連線到 { $host }:{ $port }
net-keepalive = 無法啟用 TCP keepalive
net-tls-handshake = 與 { $host } 的 TLS 交握失敗
net-failed = 連線失敗
net-closed = 伺服器關閉了連線
net-lost = 連線已中斷
net-bye = 伺服器結束了工作階段
net-bye-instead-of-idle = 伺服器沒有進入 IDLE，而是結束了工作階段
limit-line = 伺服器傳送的一行超過 { $n } 位元組
limit-literal = 伺服器宣告的常值超過 { $n } 位元組
limit-response = 伺服器傳送的回應超過 { $n } 位元組
limit-depth = 伺服器的括號巢狀超過 { $n } 層
proto-unparsable = 伺服器傳送了無法解析的回應
proto-refused = 伺服器拒絕了指令
proto-greeting = 非預期的問候
proto-unrequested = 伺服器在問候後傳送了未要求的資料；已停止
proto-overlong-line = 伺服器傳送了過長的一行
proto-preauth = 伺服器以 PREAUTH 問候（不支援預先驗證的工作階段）
proto-no-uidvalidity = 伺服器沒有提供 { $folder } 的 UIDVALIDITY
proto-session-lost = 工作階段已遺失
proto-other = 無法使用伺服器的回應
proto-no-uidl = 此 POP3 伺服器不支援 UIDL，因此 Pushmail 無法分辨新郵件與舊郵件
proto-bad-listing = 伺服器傳回的郵件清單不一致（識別碼重複或無效，或數量不符）
proto-no-login-method = 伺服器沒有提供 Pushmail 能使用的登入方式（USER 或 SASL PLAIN）
unsafe-data-before-starttls = 伺服器在要求 STARTTLS 之前就傳送了資料（可能是注入攻擊）；已停止
unsafe-data-after-starttls = 伺服器在同意 STARTTLS 之後傳送了資料（可能是注入攻擊）；已停止
unsafe-preauth = 伺服器以 PREAUTH 問候，因此無法使用 STARTTLS；為避免不加密繼續，已停止
unsafe-foreign-tag = 伺服器回應了一個從未送出的指令（可能是注入攻擊）
store-disk-full = 磁碟已滿
store-failed = 資料庫拒絕寫入
error-store = 無法寫入狀態資料庫 { $path }：{ $reason }
error-folder-missing = 伺服器上不存在資料夾 { $folder }
hint-folder-missing = 其他資料夾仍在監看中。如果它被重新命名了，請從伺服器的清單中重新選取（設定 → 資料夾），或將它從帳號中移除。
config-ca-unreadable = 無法讀取 ca_file { $path }
config-ca-not-pem = ca_file { $path } 不是 PEM 憑證檔
config-ca-empty = ca_file { $path } 中沒有 PEM 憑證
config-ca-damaged = ca_file { $path }：第 { $n } 個憑證（共 { $count } 個）已損壞；請重新複製整個檔案
config-ca-unusable = ca_file { $path } 無法作為受信任的憑證
config-bad-host = { $host } 不是有效的主機名稱
config-plain-not-loopback = `security = "plain"` 只允許用於本機回送位址，不能用於 { $host }
config-unsendable-password = 使用者名稱或密碼包含換行字元或其他控制字元，POP3 登入無法傳送；未傳送任何內容
tls-invalid = 伺服器的憑證無效
tls-incompatible = 伺服器的 TLS 太舊或不相容
tls-other = TLS 連線失敗
tls-system-roots = 無法載入系統的受信任憑證
tls-setup = TLS 設定失敗

tls-unknown-issuer = 伺服器的憑證由不明的憑證機構簽發
tls-bad-signature = 伺服器的憑證由不明的憑證機構簽發（其簽章無法以它所列的受信任 CA 驗證）
tls-expired = 伺服器的憑證已過期
tls-not-valid-yet = 伺服器的憑證尚未生效（請檢查這部電腦的時鐘）
tls-wrong-host = 伺服器的憑證屬於另一個主機名稱
tls-revoked = 伺服器的憑證已被撤銷

hint-network = 請檢查主機名稱和連接埠，並確認這部電腦已連上網路。
hint-server-left = 伺服器結束了工作階段並說明了原因。Pushmail 會自動重試；如果一直如此，請詢問你的郵件服務商。
hint-timeout = 伺服器沒有及時回應。請檢查主機和連接埠；若網路較慢，可調高 connect_timeout_secs（連線）或 command_timeout_secs（指令）。
hint-tls = 伺服器的憑證對這個主機名稱不受信任。如果伺服器使用自己的憑證機構，請在帳號設定中設定 ca_file；否則請檢查主機名稱。
hint-starttls = 如果伺服器支援，請使用 security = "tls"（通常是連接埠 993），或詢問服務商；Pushmail 絕不以未加密的方式傳送密碼。
hint-login-disabled = 請為這個帳號使用 security = "tls" 或 "starttls"。
hint-auth = 請檢查使用者名稱，並重新設定密碼（pushmail-cli account password ID）。部分服務商需要應用程式密碼。
hint-throttled = Pushmail 會在稍候重試。其他郵件程式可能用光了伺服器允許的連線數。
hint-protocol = 伺服器的回應不正常；Pushmail 會重試。如果問題持續，請附上記錄檔回報。
hint-no-uidl = 沒有 UIDL，Pushmail 就無法監看 POP3 信箱。如果服務商提供 IMAP，請為這個帳號改用 IMAP。
hint-no-login-method = Pushmail 以 USER/PASS 或 SASL PLAIN 登入 POP3 伺服器。請詢問服務商，或為這個帳號改用 IMAP。
hint-config = 請在設定檔或「設定」中修正這個帳號。
hint-unsafe = Pushmail 沒有送出你的密碼。干擾郵件的網路（飯店或咖啡廳的登入頁面）或攻擊都可能造成這種情況：請換一個網路試試；如果一直如此，請告訴你的郵件服務商。
hint-store = 請在存放這個檔案的磁碟上騰出空間（或修正它的權限）。Pushmail 會自動重試，不會重複通知。
hint-secret-no-keyring = 請啟動桌面環境的鑰匙圈（GNOME Keyring，或支援 Secret Service 的 KWallet），或在帳號中改用 password_command。
hint-secret-locked = 請解鎖鑰匙圈（登入桌面工作階段），然後按「立即檢查」。
hint-secret-missing = 請用這個指令儲存：pushmail-cli account password { $id }
hint-secret-keyring = 請確認鑰匙圈正常運作（例如用 secret-tool 測試），然後再試一次。
hint-secret-command = 請自行執行帳號的 password_command，確認它在第一行輸出密碼。

probe-password-keyring = 已在作業系統鑰匙圈中找到
probe-password-command = 來自 `{ $program }`
probe-password-typed = 在表單中輸入（儲存時一併保存）
probe-cannot-reach = 無法連到 { $address }：{ $reason }
probe-connected = 已連線到 { $address }
probe-tls = { $protocol } { $cipher }；憑證 { $subject }，簽發者 { $issuer }，有效期限至 { $until }
probe-plaintext = 未加密（僅限本機）
probe-logged-in = 已以 { $user } 登入
probe-capability = { $present ->
    [yes] { $capability } 支援
   *[no] { $capability } 不支援
}
probe-folders = { $count } 個資料夾；監看中：{ $watched }
probe-folder-unread = { $folder }（{ $unread } 封未讀）
probe-folders-missing = 伺服器上沒有這些監看的資料夾：{ $folders }

strategy-notify = NOTIFY：全部 { $folders } 個資料夾共用一個連線
strategy-notify-one = NOTIFY 即時推送：{ $home }，使用一個連線
strategy-idle = IDLE 即時推送：{ $home }，使用一個連線
strategy-idle-sweep = 不支援 NOTIFY：{ $home } 即時推送，另外 { $others } 個資料夾每 { $seconds } 秒檢查一次
strategy-poll = 不支援 IDLE：{ $folders } 個資料夾每 { $seconds } 秒檢查一次
strategy-pop3 = POP3：每 { $seconds } 秒檢查一次；POP3 無法得知你何時在別處讀過郵件

## Account IDs: `pushmail-cli account add` and Settings → Add account
# A new account's ID is already taken by the account $existing; IDs that differ only in upper
# and lower case ("Work", "work") count as the same.
account-id-taken = 帳號「{ $existing }」已存在（僅大小寫不同的 ID 視為相同）；請改用其他 ID。

## pushmail-cli status
cli-status-total = { $count ->
    [0] 沒有未讀郵件
   *[other] { $count } 封未讀
}
probe-pop3-messages = 信箱中有 { $count } 封郵件，每封都有唯一識別碼（UIDL）
cli-status-with-accounts = { $total } — { $accounts }
cli-status-account = { $name } { $count }
cli-status-problem = { $name }：{ $state }
cli-status-separator = {"；"}
cli-status-not-running = Pushmail 未在執行 — 請用 `pushmail` 啟動它
cli-status-no-bus = 無法連上桌面的 D-Bus 工作階段匯流排（{ $reason }）；請在執行 Pushmail 的桌面工作階段中執行此指令。
cli-status-no-answer = Pushmail 沒有回應（{ $reason }）；若問題持續，請結束並重新啟動它。

## pushmail-cli forget-everything
cli-forget-nothing = 沒有需要清除的內容：Pushmail 在這裡沒有保存你的任何資料。
cli-forget-plan = 這將刪除 Pushmail 為你保存的所有內容：
cli-forget-confirm = 全部刪除嗎？[y/N]
cli-forget-needs-yes = 未刪除任何內容：標準輸入不是終端機，請用 --yes 確認。
cli-forget-cancelled = 已取消；未刪除任何內容。
cli-forget-quit-tray = 已要求執行中的 Pushmail 結束。
cli-forget-item-password = 系統鑰匙圈中帳號「{ $id }」的密碼
cli-forget-item-autostart = 登入時啟動項目 { $path }
cli-forget-item-state = 狀態資料庫 { $path }（記錄已通知過的郵件）
cli-forget-item-config = 設定檔 { $path }
cli-forget-removed = 已刪除{ $what }
cli-forget-done = Pushmail 已清除所有資料。程式仍保持安裝；如需移除請執行：sudo apt purge pushmail pushmail-settings

## Sign-in (OAuth2)

state-signin_required = 需要登入
probe-signin-token = 來自 { $provider } 的登入權杖
error-signin-required = 在 { $provider } 的登入已失效（密碼已變更或存取權已撤銷）
hint-signin-required = 請重新登入：設定 → 帳號 → 登入，或執行 pushmail-cli account login ID。
error-signin-client = { $provider } 不接受此應用程式的註冊（client id）
hint-signin-client = 請用 oauth_client_id 設定為 Pushmail 註冊的 client id（見 docs/configuration.md 的「Sign-in」）。
error-signin-admin = 您的組織必須先在 { $provider } 核准 Pushmail，您才能登入
hint-signin-admin = 請 IT 管理員為您的組織允許 Pushmail，然後重新登入。
error-signin-no-client-id = 未設定用於在 { $provider } 登入的 client id
error-signin-settings = { $provider } 的登入設定無法使用
error-signin-unavailable = 無法連線到 { $provider } 的登入伺服器
error-signin-no-mechanism = 伺服器不支援以權杖登入（OAUTHBEARER 或 XOAUTH2）
hint-signin-no-mechanism = 請檢查伺服器名稱，或對此伺服器使用密碼。
error-signin-passwords-refused = 伺服器已不再接受密碼
hint-signin-passwords-refused = 請將此帳號改為透過服務商登入：設定 → 帳號，或在設定檔中設定 auth = "oauth2" 與 oauth_provider。
notify-signin-title = 請重新登入 { $account }
notify-signin-action = 登入…

## CLI sign-in: `pushmail-cli account login ID` and `account add --auth oauth2`.
cli-signin-open = 請在瀏覽器中開啟此網址以登入：{ $url }
cli-signin-waiting-minutes = 正在等待你在瀏覽器中核准，最多 { $minutes } 分鐘…
cli-signin-waiting-seconds = 正在等待你在瀏覽器中核准，最多 { $seconds } 秒…
cli-signin-no-browser = 無法開啟瀏覽器；請自行開啟上方的網址。
cli-signin-done = 已登入：帳號「{ $id }」使用 { $provider } 登入，憑證保存在系統鑰匙圈中。
cli-signin-tray-reloaded = 已通知執行中的 Pushmail 使用新的登入。
cli-signin-tray-not-told = 無法通知執行中的 Pushmail（{ $reason }）；它會在下次啟動時使用新的登入。
cli-signin-not-oauth = 帳號「{ $id }」使用密碼而非登入：請先為它設定 auth = "oauth2" 與 oauth_provider（docs/configuration.md，“Sign-in”）。
cli-signin-no-password = 帳號「{ $id }」在其服務商處登入，沒有密碼：請使用 pushmail-cli account login { $id }。
cli-signin-again = 執行 pushmail-cli account login { $id } 重試。
cli-signin-timed-out = 登入未在 { $seconds } 秒內完成；未儲存任何內容。
cli-signin-denied = 已在服務商頁面上拒絕存取；未儲存任何內容。
cli-signin-wrong-state = 收到的登入回應不屬於這次登入（可能是偽造的，或來自先前的嘗試）；未儲存任何內容。
cli-signin-wrong-issuer = 登入回應來自服務商以外的伺服器；未儲存任何內容。
cli-signin-provider-error = 服務商以錯誤（{ $code }）結束了登入；未儲存任何內容。
cli-signin-bad-redirect = 登入回應不是 Pushmail 預期的內容；未儲存任何內容。
cli-signin-listener = 無法在這台電腦上等待登入回應（{ $reason }）。
cli-signin-no-refresh-token = 服務商讓你登入了，但沒有給出長期許可（沒有 refresh token），因此 Pushmail 無法保持登入；未儲存任何內容。
cli-signin-no-refresh-token-hint = 請確認 scope 包含離線存取（oauth_scopes，例如 offline_access），然後重新登入。
cli-signin-later = 登入後 Pushmail 才能監看它：pushmail-cli account login { $id }
cli-account-signin = 登入（{ $provider }）
cli-forget-item-signin = 系統鑰匙圈中帳號「{ $id }」的登入
cli-signin-page-success = 你已登入。可以關閉此分頁並返回 Pushmail。
cli-signin-page-failure = 登入未完成。請返回 Pushmail 查看原因。

## Provider notes: what the user must do at the provider before Pushmail can log in.
## $provider is the provider's brand name: keep it as it is.
provider-note-app-password = 若要以密碼登入 { $provider }，請在 { $provider } 帳號的安全性設定中建立應用程式密碼，並在此處輸入；平常使用的密碼會被拒絕。
provider-note-enable-imap = 請先開啟 IMAP 存取：在網頁上登入 { $provider }，並在郵件設定中啟用。開啟之前，伺服器會拒絕 Pushmail 連線。
provider-note-authorization-code = { $provider } 需要以授權碼取代密碼：請在 { $provider } 網頁版信箱的設定中開啟 IMAP 服務並產生授權碼，再將授權碼填入密碼欄。

## Account discovery: finding the settings from the address (Settings and pushmail-cli).
## $where is a place being looked at (a web address, a server name, or one of the phrases below).
discover-looking = 正在查找：{ $where }…
discover-looking-providers = 已知服務商清單
discover-looking-mx = { $domain } 的郵件伺服器（MX）
discover-looking-srv = DNS 服務記錄 { $name }
discover-source-provider-list = 來自服務商清單（{ $provider }）
discover-source-provider-mx = 來自服務商清單：此網域的郵件由 { $provider } 接收（{ $mx }）
discover-source-autoconfig = 來自 { $domain } 自行發布的設定
discover-source-autoconfig-mx = 來自 { $domain } 的郵件代管商的設定（{ $mx }）
discover-source-srv = 來自 { $domain } 的 DNS 服務記錄（{ $record }）
discover-source-guess = 推測：{ $host } 以有效憑證作出了回應
discover-warning-outside = { $host } 不屬於 { $domain }，而屬於 { $owner }。僅在你預期使用此伺服器時才繼續。
discover-warning-look-alike = { $domain } 並不是 { $imitates }，只是看起來相似。輸入密碼前請核對地址。
discover-warning-insecure = 這些設定是從 { $url } 以未加密方式取得的，可能已在傳輸途中遭到竄改。
discover-not-found = 找不到 { $domain } 的設定。請手動輸入伺服器。
discover-login-password = 使用密碼
discover-login-signin = 透過 { $provider } 登入
cli-discover-found = 已找到 { $address } 的設定，{ $source }：
cli-discover-server = 伺服器：{ $server }（{ $security }）
cli-discover-user = 使用者名稱：{ $user }，{ $login }
cli-discover-check = 請檢查：{ $warning }
cli-discover-confirm = 要使用這些設定嗎？[Y/n]
cli-discover-needs-yes = 已找到設定，但沒有可供確認的終端機：加上 --yes 以使用這些設定，或以 --host 指定伺服器。
cli-discover-declined = 未儲存任何內容。請以 --host、--port、--security 和 --username 自行提供設定。

## 設定 → 新增帳號，從電子郵件地址開始（ui/src/pages/addAccount.ts）。
## $address 是電子郵件地址：保持原樣。
settings-add-intro = 輸入你的名稱和電子郵件地址：Pushmail 會替你查詢伺服器設定，並在你確認之後才詢問密碼。
settings-add-name = 名稱（選填）
settings-add-email-help = 依地址的網域查詢設定。只會傳送地址，絕不傳送密碼。
settings-add-continue = 繼續
settings-add-manual = 手動設定
settings-add-looking = 正在查詢 { $address } 的設定…
settings-add-notes = 嘗試過的位置
settings-add-found-title = 已找到 { $address } 的設定
settings-add-check = 繼續之前請先確認
settings-add-login = 登入
settings-add-source = 來源
settings-add-test-save = 測試並儲存

## 設定 → 活動：通知上的「開啟」會開啟那封郵件，和彈出通知上的一樣。

settings-activity-open = 開啟
# A toast when the tray is not running.
settings-activity-open-not-running = Pushmail 未在執行，無法開啟這封郵件。請啟動 Pushmail 後再試一次。
# A toast; $message is the tray's own sentence (e.g. no default mail application is set).
settings-activity-open-failed = 無法開啟這封郵件：{ $message }
