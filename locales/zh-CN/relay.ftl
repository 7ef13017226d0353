# 中继的网页应用（ui/relay.html、ui/src/relay/）。参见 locales/en/relay.ftl。

relay-app-name = Pushmail 中继
relay-loading = 正在加载…

## 登录

relay-signin-title = 登录
relay-signin-help = 输入中继管理员给你的访问令牌。管理员用这条命令创建：
relay-signin-token = 访问令牌
relay-signin-button = 登录
relay-signin-rejected = 中继不接受这个令牌。请检查，或索取新的令牌。
relay-signin-expired = 你的访问令牌已不再被接受。请重新登录。
relay-signout = 退出登录

## 导航和标题

relay-nav-mailboxes = 邮箱
relay-nav-devices = 设备
relay-nav-webhooks = Webhook
relay-title-mailboxes = 邮箱
relay-title-add-mailbox = 添加邮箱
relay-title-devices = 设备
relay-title-webhooks = Webhook

## 错误

relay-error-title = 操作未成功
relay-error-network = 无法连接到中继。请检查网络后重试。
relay-error-slow-down = 请求过多。请稍候再试。
relay-error-status = 中继返回了错误（HTTP { $status }）。
relay-error-auth_failed = 邮件服务器拒绝了用户名或密码
relay-error-unreachable = 无法连接到邮件服务器
relay-error-tls_failed = 无法与邮件服务器建立安全连接
relay-error-connect_failed = 无法连接到邮件服务器
relay-error-host_not_allowed = 中继不连接这个服务器
relay-error-bad_field = 有些字段不正确
relay-error-missing_field = 有些字段为空
relay-error-bad_port = 端口不正确
relay-form-incomplete = 请填写标出的字段。
relay-error-bad_address = 电子邮件地址无效
relay-error-bad_host = 服务器名称不正确
relay-error-bad_security = 安全设置不正确
relay-error-unknown_provider = 本中继不提供这种登录方式
relay-error-limit = 已达到中继的数量上限
relay-error-not_found = 它已不存在
relay-error-signin_unavailable = 本中继不提供服务商登录
relay-error-not_signin = 此邮箱使用密码登录

## 根据地址查找邮箱设置（中继使用桌面版的自动发现）

relay-discover-button = 查找设置
relay-discover-looking = 正在查找 { $address } 的设置…
relay-discover-found = 已找到设置：请检查，然后输入密码。
relay-discover-source = 来源：
relay-discover-none = 未找到 { $domain } 的设置，请在下方填写
relay-discover-signin = { $provider } 需要通过 { $signin } 登录，本中继不支持；如果服务商允许，请使用应用专用密码
relay-discover-address = 请先输入电子邮件地址，例如 ana@example.com。


## 在服务商处登录邮箱（OAuth2），代替密码。$signin 和 $provider 是登录服务商的名称（Google、
## Microsoft，或中继管理员设置的名称）；relay-oauth-offer-title 中的 $provider 是邮件服务商（Gmail）。

relay-oauth-offer-title = 已找到设置：{ $provider } 通过 { $signin } 登录。
relay-oauth-offer-help = 你将在 { $signin } 自己的页面上登录，并允许中继读取你的邮件以发送通知；中继永远看不到你的密码。
relay-oauth-found = 已找到设置：请检查，然后使用 { $signin } 登录。
relay-oauth-help = 你将在 { $provider } 自己的页面上登录；中继永远看不到你的密码。
relay-oauth-manual = 手动设置
relay-oauth-opening = 正在打开 { $provider } 的登录页面…
relay-oauth-bad-url = 中继没有给出可用的登录地址。
relay-oauth-done = { $name } 已登录，中继现在正在监视它。
relay-oauth-done-unnamed = 邮箱已登录，中继现在正在监视它。
relay-oauth-failed-title = 登录未完成
relay-oauth-failed-denied = 服务商拒绝了访问（由你本人或你所在组织的策略拒绝）。未保存任何内容。
relay-oauth-failed-wrong_browser = 登录是在另一个浏览器中完成的，而不是开始登录的那个浏览器，为了你的安全，中继拒绝了它。请重新开始，并在此浏览器中完成。
relay-oauth-failed-expired = 登录耗时太长，或其链接已被使用过。请重新开始。
relay-oauth-failed-no_refresh_token = 服务商让你登录了，但没有给出长期访问权限，因此中继无法持续监视。未保存任何内容；中继管理员可能需要更改此服务商的设置。
relay-oauth-failed-login_failed = 你已登录，但邮件服务器拒绝了登录或无法连接。未保存任何内容：请检查服务器设置后重试。
relay-oauth-failed-provider = 服务商以错误结束了登录。未保存任何内容。
relay-oauth-failed-failed = 登录过程中出了问题。未保存任何内容。
relay-oauth-required = 请重新登录 { $provider }：访问权限已被撤销或已过期
relay-oauth-required-unnamed = 请重新登录：访问权限已被撤销或已过期
relay-oauth-again = 重新登录

## 邮箱

relay-mailboxes-subtitle = 中继监视这些邮箱，有新邮件时通知你的设备。
relay-mailboxes-empty = 还没有邮箱。添加一个，即可收到它的新邮件通知。
relay-add-mailbox = 添加邮箱
relay-add-mailbox-subtitle = 中继会先测试连接，再保存邮箱。
relay-password-help = 由中继加密保存。如果服务商提供应用专用密码，也可以使用。
relay-mailbox-added = 已添加 { $name }。
relay-mailbox-remove-confirm = 要移除 { $name } 吗？中继将停止监视它并删除其密码。服务器上的邮件不受影响。
relay-mailbox-removed = 邮箱已移除。
relay-remove = 移除
relay-state-watching = 监视中
relay-state-starting = 正在启动…
relay-state-connecting = 正在连接…
relay-state-auth_failed = 密码错误
relay-state-unreachable = 无法连接服务器
relay-state-error = 错误
relay-state-backoff = 离线，正在重试
relay-state-disabled = 已暂停
relay-state-unknown = 未知

## 设备

relay-devices-subtitle = 有新邮件时收到通知的手机和浏览器。
relay-this-device = 本设备
relay-this-device-off = 你的邮箱有新邮件时，在本设备上收到通知。
relay-this-device-on = 通知已开启
relay-notify-this-device = 通知本设备
relay-subscribing = 正在请求浏览器…
relay-test-on-its-way = 测试通知正在发送。
relay-send-test = 发送测试通知
relay-stop-notifying = 停止通知本设备
relay-stopped = 本设备不再接收通知。
relay-saved = 已保存。
relay-device-name = { $system } 上的 { $browser }
relay-device-unnamed = 未命名设备
relay-device-remove-confirm = 要移除 { $name } 吗？它将不再收到通知。
relay-device-removed = 设备已移除。
relay-other-devices = 其他设备
relay-other-devices-empty = 没有其他设备。
relay-since = 自 { $date } 起
relay-detail-legend = 通知显示
relay-detail-none = 仅“工作邮箱有新邮件”
relay-detail-sender = 发件人
relay-detail-subject = 发件人和主题
relay-detail-short-none = 仅邮箱
relay-detail-short-sender = 发件人
relay-detail-short-subject = 发件人和主题
relay-detail-help = 通知经由浏览器的推送服务传递，并为本设备加密；细节越少，锁屏上显示的内容越少。
relay-push-denied = 此网站的通知已被阻止。请在浏览器的网站设置中允许通知，然后重试。
relay-push-unsupported = 此浏览器无法接收推送通知。
relay-push-ios = 在 iPhone 和 iPad 上，请先将此页面添加到主屏幕（共享 → 添加到主屏幕），再从主屏幕打开。
relay-push-failed = 浏览器未能订阅通知。

## Webhook

relay-webhooks-subtitle = 有新邮件时，中继会向这些地址发送通知，并用 webhook 的密钥签名。
relay-webhooks-list = Webhook
relay-webhooks-empty = 没有 webhook。
relay-webhook-disabled = 已停止：多次失败。重新添加即可再次启用。
relay-webhook-add-title = 添加 webhook
relay-webhook-url = 地址（URL）
relay-webhook-add = 添加 webhook
relay-webhook-url-invalid = 请输入以 https:// 或 http:// 开头的地址。
relay-webhook-secret = 密钥
relay-webhook-secret-once = { $url } 的密钥。请现在复制：它不会再次显示。
relay-copy = 复制
relay-copied = 已复制。
relay-copy-failed = 无法复制：请选中文字后手动复制。
relay-webhook-remove-confirm = 要移除 webhook { $url } 吗？
relay-webhook-removed = Webhook 已移除。
