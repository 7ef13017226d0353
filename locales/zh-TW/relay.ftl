# 中繼的網頁應用程式（ui/relay.html、ui/src/relay/）。參見 locales/en/relay.ftl。

relay-app-name = Pushmail 中繼
relay-loading = 正在載入…

## 登入

relay-signin-title = 登入
relay-signin-help = 輸入中繼管理員給你的存取權杖。管理員用這個指令建立：
relay-signin-token = 存取權杖
relay-signin-button = 登入
relay-signin-rejected = 中繼不接受這個權杖。請檢查，或索取新的權杖。
relay-signin-expired = 你的存取權杖已不再被接受。請重新登入。
relay-signout = 登出

## 導覽與標題

relay-nav-mailboxes = 信箱
relay-nav-devices = 裝置
relay-nav-webhooks = Webhook
relay-title-mailboxes = 信箱
relay-title-add-mailbox = 新增信箱
relay-title-devices = 裝置
relay-title-webhooks = Webhook

## 錯誤

relay-error-title = 操作未成功
relay-error-network = 無法連線到中繼。請檢查網路後再試一次。
relay-error-slow-down = 要求過多。請稍候再試。
relay-error-status = 中繼回傳了錯誤（HTTP { $status }）。
relay-error-auth_failed = 郵件伺服器拒絕了使用者名稱或密碼
relay-error-unreachable = 無法連線到郵件伺服器
relay-error-tls_failed = 無法與郵件伺服器建立安全連線
relay-error-connect_failed = 無法連線到郵件伺服器
relay-error-host_not_allowed = 中繼不連線到這個伺服器
relay-error-bad_field = 有些欄位不正確
relay-error-missing_field = 有些欄位是空的
relay-error-bad_port = 連接埠不正確
relay-form-incomplete = 請填寫標示的欄位。
relay-error-bad_address = 電子郵件地址無效
relay-error-bad_host = 伺服器名稱不正確
relay-error-bad_security = 安全性設定不正確
relay-error-unknown_provider = 本中繼不提供這種登入方式
relay-error-limit = 已達到中繼的數量上限
relay-error-not_found = 它已不存在
relay-error-signin_unavailable = 本中繼不提供服務商登入
relay-error-not_signin = 此信箱使用密碼登入

## 依地址尋找信箱設定（中繼使用桌面版的自動探索）

relay-discover-button = 尋找設定
relay-discover-looking = 正在尋找 { $address } 的設定…
relay-discover-found = 已找到設定：請檢查，然後輸入密碼。
relay-discover-source = 來源：
relay-discover-none = 找不到 { $domain } 的設定，請在下方填寫
relay-discover-signin = { $provider } 需要透過 { $signin } 登入，本中繼不支援；如果服務商允許，請使用應用程式密碼
relay-discover-address = 請先輸入電子郵件地址，例如 ana@example.com。


## 在服務商處登入信箱（OAuth2），代替密碼。$signin 和 $provider 是登入服務商的名稱（Google、
## Microsoft，或中繼管理員設定的名稱）；relay-oauth-offer-title 中的 $provider 是郵件服務商（Gmail）。

relay-oauth-offer-title = 已找到設定：{ $provider } 透過 { $signin } 登入。
relay-oauth-offer-help = 你將在 { $signin } 自己的頁面上登入，並允許中繼讀取你的郵件以傳送通知；中繼永遠看不到你的密碼。
relay-oauth-found = 已找到設定：請檢查，然後使用 { $signin } 登入。
relay-oauth-help = 你將在 { $provider } 自己的頁面上登入；中繼永遠看不到你的密碼。
relay-oauth-manual = 手動設定
relay-oauth-opening = 正在開啟 { $provider } 的登入頁面…
relay-oauth-bad-url = 中繼沒有提供可用的登入網址。
relay-oauth-done = { $name } 已登入，中繼現在正在監看它。
relay-oauth-done-unnamed = 信箱已登入，中繼現在正在監看它。
relay-oauth-failed-title = 登入未完成
relay-oauth-failed-denied = 服務商拒絕了存取（由你本人或你所屬組織的政策拒絕）。未儲存任何內容。
relay-oauth-failed-wrong_browser = 登入是在另一個瀏覽器中完成的，而不是開始登入的那個瀏覽器，為了你的安全，中繼拒絕了它。請重新開始，並在此瀏覽器中完成。
relay-oauth-failed-expired = 登入耗時太久，或其連結已被使用過。請重新開始。
relay-oauth-failed-no_refresh_token = 服務商讓你登入了，但沒有提供長期存取權限，因此中繼無法持續監看。未儲存任何內容；中繼管理員可能需要變更此服務商的設定。
relay-oauth-failed-login_failed = 你已登入，但郵件伺服器拒絕了登入或無法連線。未儲存任何內容：請檢查伺服器設定後再試一次。
relay-oauth-failed-provider = 服務商以錯誤結束了登入。未儲存任何內容。
relay-oauth-failed-failed = 登入過程中發生問題。未儲存任何內容。
relay-oauth-required = 請重新登入 { $provider }：存取權限已被撤銷或已過期
relay-oauth-required-unnamed = 請重新登入：存取權限已被撤銷或已過期
relay-oauth-again = 重新登入

## 信箱

relay-mailboxes-subtitle = 中繼監看這些信箱，有新郵件時通知你的裝置。
relay-mailboxes-empty = 還沒有信箱。新增一個，即可收到它的新郵件通知。
relay-add-mailbox = 新增信箱
relay-add-mailbox-subtitle = 中繼會先測試連線，再儲存信箱。
relay-password-help = 由中繼加密保存。如果服務商提供應用程式專用密碼，也可以使用。
relay-mailbox-added = 已新增 { $name }。
relay-mailbox-remove-confirm = 要移除 { $name } 嗎？中繼將停止監看它並刪除其密碼。伺服器上的郵件不受影響。
relay-mailbox-removed = 信箱已移除。
relay-remove = 移除
relay-state-watching = 監看中
relay-state-starting = 正在啟動…
relay-state-connecting = 正在連線…
relay-state-auth_failed = 密碼錯誤
relay-state-unreachable = 無法連線伺服器
relay-state-error = 錯誤
relay-state-backoff = 離線，正在重試
relay-state-disabled = 已暫停
relay-state-unknown = 未知

## 裝置

relay-devices-subtitle = 有新郵件時收到通知的手機和瀏覽器。
relay-this-device = 這部裝置
relay-this-device-off = 你的信箱有新郵件時，在這部裝置上收到通知。
relay-this-device-on = 通知已開啟
relay-notify-this-device = 通知這部裝置
relay-subscribing = 正在詢問瀏覽器…
relay-test-on-its-way = 測試通知正在傳送。
relay-send-test = 傳送測試通知
relay-stop-notifying = 停止通知這部裝置
relay-stopped = 這部裝置不再接收通知。
relay-saved = 已儲存。
relay-device-name = { $system } 上的 { $browser }
relay-device-unnamed = 未命名裝置
relay-device-remove-confirm = 要移除 { $name } 嗎？它將不再收到通知。
relay-device-removed = 裝置已移除。
relay-other-devices = 其他裝置
relay-other-devices-empty = 沒有其他裝置。
relay-since = 自 { $date } 起
relay-detail-legend = 通知顯示
relay-detail-none = 僅「工作信箱有新郵件」
relay-detail-sender = 寄件者
relay-detail-subject = 寄件者和主旨
relay-detail-short-none = 僅信箱
relay-detail-short-sender = 寄件者
relay-detail-short-subject = 寄件者和主旨
relay-detail-help = 通知經由瀏覽器的推播服務傳遞，並為這部裝置加密；細節越少，鎖定畫面上顯示的內容越少。
relay-push-denied = 此網站的通知已被封鎖。請在瀏覽器的網站設定中允許通知，然後再試一次。
relay-push-unsupported = 此瀏覽器無法接收推播通知。
relay-push-ios = 在 iPhone 和 iPad 上，請先將此頁面加入主畫面（分享 → 加入主畫面），再從主畫面開啟。
relay-push-failed = 瀏覽器未能訂閱通知。

## Webhook

relay-webhooks-subtitle = 有新郵件時，中繼會向這些位址傳送通知，並以 webhook 的密鑰簽署。
relay-webhooks-list = Webhook
relay-webhooks-empty = 沒有 webhook。
relay-webhook-disabled = 已停止：多次失敗。重新新增即可再次啟用。
relay-webhook-add-title = 新增 webhook
relay-webhook-url = 位址（URL）
relay-webhook-add = 新增 webhook
relay-webhook-url-invalid = 請輸入以 https:// 或 http:// 開頭的位址。
relay-webhook-secret = 密鑰
relay-webhook-secret-once = { $url } 的密鑰。請現在複製：它不會再次顯示。
relay-copy = 複製
relay-copied = 已複製。
relay-copy-failed = 無法複製：請選取文字後手動複製。
relay-webhook-remove-confirm = 要移除 webhook { $url } 嗎？
relay-webhook-removed = Webhook 已移除。
