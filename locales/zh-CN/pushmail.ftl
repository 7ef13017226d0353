# Pushmail — 简体中文。
# 译自 locales/en/pushmail.ftl（参考目录：每个键都必须在其中存在）。
# 术语参照 Thunderbird 简体中文版：账户、文件夹、收件箱、未读。

app-name = Pushmail

## Tray: tooltip and icon title

tray-unread-total = { $count ->
    [0] 没有未读邮件
   *[other] { $count } 封未读邮件
}
tray-paused = 通知已暂停
tray-paused-until = 通知已暂停至 { $time }
tray-paused-until-tomorrow = 通知已暂停至明天 { $time }

## Accounts: one line per account, in the tray menu and the tooltip

account-line = { $name } — { $count ->
    [0] 没有未读
   *[other] { $count } 封未读
}
account-line-state = { $name } — { $state }
state-connecting = 正在连接…
state-push = 已连接
state-polling = 每 { $seconds } 秒检查一次
state-backoff = 离线，正在重试
state-error = 出错
state-auth_failed = 密码被拒绝
state-stopped = 已停止
state-disabled = 已停用

## Tray menu

menu-open-mail-client = 打开邮件客户端
menu-check-now = 立即检查
menu-pause = 暂停通知
menu-pause-30m = 30 分钟
menu-pause-1h = 1 小时
menu-pause-tomorrow = 直到明天早上
menu-resume = 恢复通知
menu-settings = 设置…
menu-quit = 退出

## Notifications

notify-action-open = 打开
notify-action-mark-read = 标记为已读
notify-summary-title = { $count ->
   *[other] { $account } 有 { $count } 封新邮件
}
notify-summary-from = { $others ->
    [0] 来自 { $names }
   *[other] 来自 { $names } 及另外 { $others } 人
}
notify-count-only = { $count ->
   *[other] { $account } 有 { $count } 封新邮件
}
sender-unknown = （未知发件人）
subject-none = （无主题）
subject-unreadable = （无法读取这封邮件）
notify-attention-title = { $account } 需要处理

## Tray process (pushmail): extra lines

account-line-with-state = { $line }（{ $state }）
notify-sender-only-body = { $account } 有新邮件
notify-attention-body = { $detail }
open-failed-title = 无法打开邮件
open-no-mail-client = 尚未设置默认邮件应用。请在桌面环境的设置中为电子邮件链接选择一个，或在 Pushmail 的“设置 → 常规”中设置打开命令。
open-failed-command = 无法启动 { $program }：{ $reason }
config-error-title = Pushmail 的配置文件有错误

## Settings window (pushmail-settings, ui/)

settings-window-title = Pushmail 设置
settings-loading = 正在加载…
settings-nav-label = 设置分类
settings-nav-accounts = 账户
settings-nav-folders = 文件夹
settings-nav-notifications = 通知
settings-nav-general = 常规
settings-nav-activity = 活动
settings-tray-running = Pushmail 正在运行
settings-tray-stopped = Pushmail 未运行
settings-tray-unreachable = 无法连接到 Pushmail
settings-tray-start = 启动 Pushmail
settings-tray-starting = 正在启动…
settings-tray-started = Pushmail 已在运行。
settings-tray-stopped-banner = Pushmail 未运行，因此没有实时状态可显示。您的设置已保存，将在 Pushmail 启动时生效。

settings-save = 保存
settings-saving = 正在保存…
settings-cancel = 取消
settings-back = 返回
settings-saved = 已保存。
settings-saved-not-running = 已保存。Pushmail 未运行，更改将在它启动时生效。
settings-saved-reload-failed = 已保存，但正在运行的 Pushmail 未应用更改：{ $message }
settings-required = 必填

settings-error-invalid = 请检查此项
settings-error-config_unreadable = 配置文件需要修正
settings-error-config_write = 无法保存配置
settings-error-not_found = 该账户已不存在
settings-error-keyring = 密钥环未能完成操作
settings-error-connect = 无法连接到服务器
settings-error-tray_not_running = Pushmail 未运行
settings-error-tray = Pushmail 没有响应
settings-error-spawn = 无法启动 Pushmail
settings-error-io = 出现问题
settings-error-internal = 出现问题
settings-error-sign_in = 登录未完成
settings-config-broken = “设置”不会修改无法读取的文件。请修正该文件，或将其移走以重新开始，然后再次打开“设置”。

## Settings → Accounts

settings-accounts-title = 账户
settings-accounts-subtitle = Pushmail 会留意这些邮箱里的新邮件。
settings-welcome = 欢迎使用 Pushmail。请添加您希望接收通知的邮件账户。
settings-account-add = 添加账户
settings-account-edit = 编辑
settings-account-remove = 移除
settings-account-check-now = 立即检查
settings-account-unread = { $count ->
    [0] 没有未读邮件
   *[other] { $count } 封未读
}
settings-account-no-live-state = 无实时状态
settings-account-remove-confirm = 要移除 { $name } 吗？其密码也会从密钥环中删除。服务器上的邮件不受影响。
settings-account-removed = 账户已移除。
settings-account-saved = 账户已保存。
settings-account-folders = { $count ->
   *[other] { $count } 个文件夹
}

settings-account-delay-seconds = 新邮件通常在到达服务器后 { $count } 秒内显示
settings-account-delay-minutes = 新邮件通常在到达服务器后 { $count } 分钟内显示
settings-account-delay-hours = 新邮件通常在到达服务器后 { $count } 小时内显示
settings-account-delay-basis = 过去 24 小时内 { $count } 封邮件的中位数

## Settings → Add or edit an account

settings-account-new-title = 添加账户
settings-account-edit-title = 编辑 { $name }
settings-account-intro = Pushmail 通过 IMAP 或 POP3 连接，只读取新邮件的邮件头。
settings-section-identity = 账户
settings-section-server = 服务器
settings-section-advanced = 高级
settings-field-name = 名称
settings-field-name-help = 显示在托盘菜单和通知中。
settings-field-email = 电子邮件地址
settings-field-id = 账户 ID
settings-field-id-help = 简短且不可更改：用于在密钥环中命名密码。可使用字母、数字、- 和 _。
settings-field-protocol = 协议
settings-protocol-imap = IMAP
settings-protocol-pop3 = POP3
settings-field-protocol-pop3-help = POP3 不支持实时推送：Pushmail 每 { $seconds } 秒检查一次，从不删除或更改服务器上的任何内容，也无法得知你何时在别处读过邮件；计数显示的是你上次打开邮件客户端以来的新邮件。
settings-field-host = IMAP 服务器
settings-field-host-pop3 = POP3 服务器
settings-field-port = 端口
settings-field-security = 安全性
settings-security-tls = TLS
settings-security-starttls = STARTTLS
settings-security-starttls-pop3 = STARTTLS（STLS）
settings-security-plain = 无
settings-field-security-help = TLS 最安全。“无”仅允许用于本机上的服务器。
settings-field-username = 用户名
settings-field-password = 密码
settings-field-password-keep = 留空以保留已保存的密码
settings-field-password-help = 保存在操作系统的密钥环中，绝不写入配置文件。
settings-field-password-source = 密码来源
settings-password-source-keyring = 操作系统密钥环
settings-password-source-command = 命令
settings-field-password-command = 输出密码的命令
settings-field-ca-file = 额外的 CA 证书（PEM 文件）
settings-field-ca-file-help = 仅适用于使用自有证书颁发机构的服务器。
settings-field-open = 点击通知时打开
settings-open-default = 邮件客户端
settings-open-url = 网页邮箱
settings-open-command = 命令
settings-field-enabled = 监视此账户
settings-test = 测试连接
settings-testing = 正在测试…
settings-test-ok = 一切正常。
settings-test-failed = 测试在“{ $step }”处停止。
settings-test-hint = 解决办法
settings-test-folders = 要监视的文件夹
settings-test-step-password = 密码
settings-test-step-tcp = 连接服务器
settings-test-step-tls = 安全连接
settings-test-step-login = 登录
settings-test-step-capabilities = 服务器功能
settings-test-step-folders = 文件夹
settings-test-step-mailbox = 邮箱

## Settings → Add or edit an account: signing in at the provider (OAuth2) instead of a password.
## $provider is a brand name (Google, Microsoft, Yahoo, AOL, Fastmail).
settings-field-signin = 登录方式
settings-signin-password = 密码
settings-signin-with = 使用 { $provider } 登录
settings-signin-custom = 使用其他提供商登录（自定义）
settings-signin-button = 登录
settings-signin-help = 在你的网页浏览器中打开提供商的页面。Pushmail 永远不会看到你的密码；它获得的授权保存在系统密钥环中。
settings-signin-waiting = 正在等待你在浏览器中批准（最多 { $minutes } 分钟）…
settings-signin-url = 浏览器没有打开，或者你使用另一个浏览器？请打开此地址：
settings-signin-copy = 复制
settings-signin-copied = 已复制
settings-signin-cancel = 取消
settings-signin-done = 已登录。接下来测试连接。
settings-signin-again-help = 已登录。当 Pushmail 提示时，或要授予新的权限时，请重新登录。
settings-field-oauth-client-id = 客户端 ID
settings-field-oauth-authorization-endpoint = 授权端点
settings-field-oauth-token-endpoint = 令牌端点
settings-field-oauth-scopes = 范围
settings-field-oauth-scopes-help = 以空格分隔，例如：openid offline_access email imap
settings-field-oauth-issuer = 颁发者（可选）
settings-signin-again = 按“登录”重试。
settings-signin-cancelled = 登录已取消；未保存任何内容。

## Settings → Folders

settings-folders-title = 文件夹
settings-folders-subtitle = 选择要监视的文件夹。新邮件通常会进入 INBOX（收件箱）；过滤器可能会把部分邮件归入其他文件夹。
settings-folders-account = 账户
settings-folders-loading = 正在向服务器获取文件夹列表…
settings-folders-reload = 重新加载列表
settings-folders-filter = 筛选文件夹
settings-folders-missing = 服务器上不存在
settings-folders-container = 仅包含其他文件夹
settings-folders-watched = { $count ->
   *[other] 监视 { $count } 个文件夹
}
settings-folders-no-accounts = 请先添加账户。
settings-folders-pop3 = { $name } 是 POP3 账户：只有一个邮箱，始终受到监视，没有可选择的文件夹。
settings-folders-save = 保存文件夹
settings-folders-all-but-special = 除已删除、垃圾邮件、已发送和草稿外的全部文件夹
settings-folders-all-but-special-hint = 也会跳过“所有邮件”和“星标邮件”，因为它们重复其他文件夹中的邮件。保存前仍可自行调整。
settings-folder-special-all = 所有邮件
settings-folder-special-archive = 归档
settings-folder-special-drafts = 草稿
settings-folder-special-flagged = 星标邮件
settings-folder-special-junk = 垃圾邮件
settings-folder-special-sent = 已发送
settings-folder-special-trash = 已删除

## Settings → Notifications

settings-notifications-title = 通知
settings-notifications-subtitle = Pushmail 何时弹出通知。托盘中的数字始终会更新。
settings-notify-enabled = 显示弹出通知
settings-quiet-hours = 免打扰时段
settings-quiet-hours-help = 每天这段时间内不弹出通知，VIP 发件人除外。
settings-quiet-from = 从
settings-quiet-to = 到
settings-quiet-hours-summary = { $span ->
    [overnight] 从 { $start } 到次日早上 { $end } 不弹出通知。
   *[day] 从 { $start } 到 { $end } 不弹出通知。
}
settings-vip = VIP 发件人
settings-vip-help = 来自这些地址或 @域名的邮件总会弹出通知，即使在免打扰时段或来自已静音的账户。
settings-vip-placeholder = boss@example.com 或 @family.example
settings-vip-add = 添加
settings-vip-remove = 移除 { $address }
settings-vip-invalid = 请输入类似 ana@example.com 的地址，或类似 @example.com 的整个域名。
settings-vip-none = 没有 VIP 发件人。
settings-summary = 邮件集中到达
settings-summary-threshold = 同时到达的邮件超过此数量时，合并为一条摘要
settings-per-account = 按账户
settings-mute = 静音
settings-preview = 弹出通知显示
settings-preview-full = 发件人和主题
settings-preview-sender = 仅发件人
settings-preview-count = 仅邮件数量

## Settings → General

settings-general-title = 常规
settings-autostart = 登录时启动 Pushmail
settings-autostart-help = Pushmail 驻留在托盘中，等待邮件时只占用很少的内存。
settings-language = 语言
settings-language-auto = 自动（{ $language }）
settings-mail-client = 邮件客户端
settings-mail-client-help = 通知中的“打开”和托盘菜单所启动的程序，除非账户另有设置。
settings-mail-client-default = 桌面环境的默认邮件应用
settings-mail-client-command = 此命令
settings-config-file = 配置文件
language-name-en = English
language-name-it = Italiano
language-name-zh-TW = 繁體中文
language-name-zh-CN = 简体中文
language-name-ar = العربية

## Settings → Activity

settings-activity-title = 活动
settings-activity-subtitle = 正在运行的 Pushmail 最近做了什么。
settings-activity-recent = 最近的通知
settings-activity-none = 暂无通知。
settings-activity-problems = 问题
settings-activity-no-problems = 没有问题：所有账户都正常。
settings-activity-what-to-do = 解决办法
settings-activity-refresh = 刷新
settings-activity-unavailable = 启动 Pushmail 即可查看它最近做了什么。
settings-activity-edit-account = 编辑账户
settings-activity-delay-seconds = 到达服务器后 { $count } 秒内显示
settings-activity-delay-minutes = 到达服务器后 { $count } 分钟内显示
settings-activity-delay-hours = 到达服务器后 { $count } 小时内显示
settings-activity-hint-auth_failed = 服务器拒绝了用户名或密码。请编辑账户，重新输入密码（部分服务商需要使用应用专用密码）并保存：Pushmail 会立即重试。
settings-activity-hint-error = 请在账户页面测试连接，查看是哪一步失败以及原因。
settings-activity-hint-backoff = Pushmail 无法连接到服务器，正在不断重试。请检查这台电脑是否已联网；如果已联网，请在账户页面测试连接。

## Command line (pushmail-cli): lines a person reads in a terminal

cli-new-mail = [{ $where }] 来自 { $from } 的新邮件：{ $subject }
cli-new-mail-catch-up = [{ $where }] 离开期间收到来自 { $from } 的新邮件：{ $subject }
cli-unread = [{ $where }] { $count ->
    [0] 没有未读
   *[other] { $count } 封未读
}
cli-seen = [{ $where }] 邮件 { $uid } 已在别处阅读
cli-strategy = 策略：{ $strategy }
cli-testing = 正在测试连接…
cli-ask-host = IMAP 服务器（主机名）
cli-ask-security = 安全性（tls、starttls、plain）
cli-ask-port = 端口
cli-ask-username = 用户名
cli-ask-email = 电子邮件地址
cli-ask-id = 此账户的简称
cli-ask-password = { $user }@{ $host } 的密码：
cli-account-saved = 账户“{ $id }”已保存到 { $path }。
cli-account-not-saved = 账户未保存。请解决上面的问题，或加上 --no-test 直接保存。
cli-account-removed = 已移除账户“{ $id }”。
cli-password-stored = “{ $id }”的密码已存入操作系统密钥环。
cli-no-accounts = 没有账户。请使用此命令添加：pushmail-cli account add
cli-account-disabled = （已停用）

## Connection diagnostics: what went wrong and what to do, shown by `pushmail-cli account test`,
## Settings → Test connection and the tray's "needs attention" popup. Logs stay in English.
## Type configuration keys (ca_file, password_command, security = "tls", connect_timeout_secs…)
## and commands (pushmail-cli account password ID) exactly as here: people copy them.
## $reason is the server's or the system's own text and stays as they wrote it.

list-separator = {"、"}

error-timeout = { $step }超时
error-tls = TLS 失败：{ $reason }
error-starttls-unavailable = 服务器不提供 STARTTLS，因此无法加密连接
error-starttls-refused = 服务器拒绝了 STARTTLS：{ $reason }
error-login-disabled = 服务器不允许在未加密的连接上登录
error-auth = 登录失败：{ $reason }
error-throttled = 服务器繁忙或限制了连接数：{ $reason }
error-protocol = 协议错误：{ $reason }
error-unsafe = 已拒绝不安全的连接：{ $reason }
error-secret-no-keyring = 没有可用的操作系统密钥环：{ $reason }
error-secret-locked = 操作系统密钥环已锁定或拒绝访问：{ $reason }
error-secret-missing = 操作系统密钥环中没有账户 `{ $id }` 的密码
error-secret-keyring = 密钥环出错：{ $reason }
error-secret-command = password_command 执行失败：{ $reason }

# How a problem reads: the step it happened in, the other side's own words after it.
step-connecting = 连接
step-tls-handshake = TLS 握手
step-greeting = 等待服务器问候
step-starttls = STARTTLS
step-capabilities = 读取服务器功能
step-logging-in = 登录
step-capabilities-after-login = 登录后读取服务器功能
step-listing-folders = 列出文件夹
step-asking-for-notify = 请求 NOTIFY
step-selecting-folder = 选择文件夹
step-starting-idle = 启动 IDLE
step-waiting-in-idle = 在 IDLE 中等待
step-ending-idle = 结束 IDLE（连接似乎已断开）
step-marking-read = 将邮件标记为已读
step-fetching-new = 获取新邮件
step-listing-new = 列出新邮件
step-counting-unread = 统计未读邮件
step-enabling-qresync = 启用 QRESYNC
step-finding-highest-uid = 查找最大的 UID
step-checking-connection = 检查连接
step-asking-folder-status = 查询文件夹状态
problem-in-step = { $step }：{ $what }
problem-with-words = { $what }：{ $words }
problem-no-reason = 服务器没有说明原因
problem-at-host = { $what }（{ $host }）
net-unreachable = 无法连接到 { $host }:{ $port }
net-keepalive = 无法启用 TCP keepalive
net-tls-handshake = 与 { $host } 的 TLS 握手失败
net-failed = 连接失败
net-closed = 服务器关闭了连接
net-lost = 连接已中断
net-bye = 服务器结束了会话
net-bye-instead-of-idle = 服务器没有进入 IDLE，而是结束了会话
limit-line = 服务器发送的一行超过 { $n } 字节
limit-literal = 服务器声明的字面量超过 { $n } 字节
limit-response = 服务器发送的响应超过 { $n } 字节
limit-depth = 服务器的括号嵌套超过 { $n } 层
proto-unparsable = 服务器发送了无法解析的响应
proto-refused = 服务器拒绝了命令
proto-greeting = 意外的问候
proto-unrequested = 服务器在问候后发送了未请求的数据；已停止
proto-overlong-line = 服务器发送了过长的行
proto-preauth = 服务器以 PREAUTH 问候（不支持预先认证的会话）
proto-no-uidvalidity = 服务器没有给出 { $folder } 的 UIDVALIDITY
proto-session-lost = 会话已丢失
proto-other = 无法使用服务器的响应
proto-no-uidl = 此 POP3 服务器不支持 UIDL，因此 Pushmail 无法区分新邮件和旧邮件
proto-bad-listing = 服务器返回的邮件列表不一致（标识符重复或无效，或数量不符）
proto-no-login-method = 服务器没有提供 Pushmail 能使用的登录方式（USER 或 SASL PLAIN）
unsafe-data-before-starttls = 服务器在请求 STARTTLS 之前就发送了数据（可能是注入攻击）；已停止
unsafe-data-after-starttls = 服务器在同意 STARTTLS 之后发送了数据（可能是注入攻击）；已停止
unsafe-preauth = 服务器以 PREAUTH 问候，因此无法使用 STARTTLS；为避免不加密继续，已停止
unsafe-foreign-tag = 服务器回应了一个从未发送的命令（可能是注入攻击）
store-disk-full = 磁盘已满
store-failed = 数据库拒绝写入
error-store = 无法写入状态数据库 { $path }：{ $reason }
error-folder-missing = 服务器上不存在文件夹 { $folder }
hint-folder-missing = 其他文件夹仍在监视中。如果它被重命名了，请从服务器的列表中重新选择（设置 → 文件夹），或者将它从账户中移除。
config-ca-unreadable = 无法读取 ca_file { $path }
config-ca-not-pem = ca_file { $path } 不是 PEM 证书文件
config-ca-empty = ca_file { $path } 中没有 PEM 证书
config-ca-damaged = ca_file { $path }：第 { $n } 个证书（共 { $count } 个）已损坏；请重新复制整个文件
config-ca-unusable = ca_file { $path } 不能用作受信任的证书
config-bad-host = { $host } 不是有效的主机名
config-plain-not-loopback = `security = "plain"` 只允许用于本机回环地址，不能用于 { $host }
config-unsendable-password = 用户名或密码包含换行符或其他控制字符，POP3 登录无法发送；未发送任何内容
tls-invalid = 服务器的证书无效
tls-incompatible = 服务器的 TLS 太旧或不兼容
tls-other = TLS 连接失败
tls-system-roots = 无法加载系统的受信任证书
tls-setup = TLS 设置失败

tls-unknown-issuer = 服务器的证书由未知的证书颁发机构签发
tls-bad-signature = 服务器的证书由未知的证书颁发机构签发（其签名无法用它所声称的受信任 CA 验证）
tls-expired = 服务器的证书已过期
tls-not-valid-yet = 服务器的证书尚未生效（请检查这台电脑的时钟）
tls-wrong-host = 服务器的证书属于另一个主机名
tls-revoked = 服务器的证书已被吊销

hint-network = 请检查主机名和端口，并确认这台电脑已联网。
hint-server-left = 服务器结束了会话并说明了原因。Pushmail 会自动重试；如果一直如此，请询问你的邮件服务商。
hint-timeout = 服务器没有及时响应。请检查主机和端口；如果网络较慢，可调大 connect_timeout_secs（连接）或 command_timeout_secs（命令）。
hint-tls = 服务器的证书对这个主机名不受信任。如果服务器使用自己的证书颁发机构，请在账户设置中设置 ca_file；否则请检查主机名。
hint-starttls = 如果服务器支持，请使用 security = "tls"（通常是端口 993），或咨询服务商；Pushmail 绝不以未加密的方式发送密码。
hint-login-disabled = 请为这个账户使用 security = "tls" 或 "starttls"。
hint-auth = 请检查用户名，并重新设置密码（pushmail-cli account password ID）。部分服务商需要使用应用专用密码。
hint-throttled = Pushmail 会在稍后重试。其他邮件程序可能占满了服务器允许的连接数。
hint-protocol = 服务器的响应不正常；Pushmail 会重试。如果问题持续，请附上日志报告。
hint-no-uidl = 没有 UIDL，Pushmail 就无法监视 POP3 邮箱。如果服务商提供 IMAP，请为这个账户改用 IMAP。
hint-no-login-method = Pushmail 使用 USER/PASS 或 SASL PLAIN 登录 POP3 服务器。请咨询服务商，或为这个账户改用 IMAP。
hint-config = 请在配置文件或“设置”中修正这个账户。
hint-unsafe = Pushmail 没有发送你的密码。干扰邮件的网络（酒店或咖啡馆的登录页面）或者攻击都可能导致这种情况：请换一个网络试试；如果一直如此，请告诉你的邮件服务商。
hint-store = 请在存放这个文件的磁盘上腾出空间（或修正它的权限）。Pushmail 会自动重试，不会重复通知。
hint-secret-no-keyring = 请启动桌面环境的密钥环（GNOME Keyring，或支持 Secret Service 的 KWallet），或在账户中改用 password_command。
hint-secret-locked = 请解锁密钥环（登录桌面会话），然后点击“立即检查”。
hint-secret-missing = 请用这个命令保存：pushmail-cli account password { $id }
hint-secret-keyring = 请确认密钥环工作正常（例如用 secret-tool 测试），然后重试。
hint-secret-command = 请自己运行账户的 password_command，确认它在第一行输出密码。

probe-password-keyring = 已在操作系统密钥环中找到
probe-password-command = 来自 `{ $program }`
probe-password-typed = 在表单中输入（保存时一并存储）
probe-cannot-reach = 无法连接到 { $address }：{ $reason }
probe-connected = 已连接到 { $address }
probe-tls = { $protocol } { $cipher }；证书 { $subject }，颁发者 { $issuer }，有效期至 { $until }
probe-plaintext = 未加密（仅限本机）
probe-logged-in = 已以 { $user } 登录
probe-capability = { $present ->
    [yes] { $capability } 支持
   *[no] { $capability } 不支持
}
probe-folders = { $count } 个文件夹；正在监视：{ $watched }
probe-folder-unread = { $folder }（{ $unread } 封未读）
probe-folders-missing = 服务器上没有这些监视的文件夹：{ $folders }

strategy-notify = NOTIFY：全部 { $folders } 个文件夹共用一个连接
strategy-notify-one = NOTIFY 实时推送：{ $home }，使用一个连接
strategy-idle = IDLE 实时推送：{ $home }，使用一个连接
strategy-idle-sweep = 不支持 NOTIFY：{ $home } 实时推送，另外 { $others } 个文件夹每 { $seconds } 秒检查一次
strategy-poll = 不支持 IDLE：{ $folders } 个文件夹每 { $seconds } 秒检查一次
strategy-pop3 = POP3：每 { $seconds } 秒检查一次；POP3 无法得知你何时在别处读过邮件

## Account IDs: `pushmail-cli account add` and Settings → Add account
# A new account's ID is already taken by the account $existing; IDs that differ only in upper
# and lower case ("Work", "work") count as the same.
account-id-taken = 账户“{ $existing }”已存在（仅大小写不同的 ID 视为相同）；请改用其他 ID。

## pushmail-cli status
cli-status-total = { $count ->
    [0] 没有未读邮件
   *[other] { $count } 封未读
}
probe-pop3-messages = 邮箱中有 { $count } 封邮件，每封都有唯一标识（UIDL）
cli-status-with-accounts = { $total } — { $accounts }
cli-status-account = { $name } { $count }
cli-status-problem = { $name }：{ $state }
cli-status-separator = {"；"}
cli-status-not-running = Pushmail 未在运行 — 请用 `pushmail` 启动它
cli-status-no-bus = 无法连接桌面的 D-Bus 会话总线（{ $reason }）；请在运行 Pushmail 的桌面会话中执行此命令。
cli-status-no-answer = Pushmail 没有响应（{ $reason }）；如果问题持续，请退出并重新启动它。

## pushmail-cli forget-everything
cli-forget-nothing = 没有需要清除的内容：Pushmail 在这里没有保存你的任何数据。
cli-forget-plan = 这将删除 Pushmail 为你保存的所有内容：
cli-forget-confirm = 全部删除吗？[y/N]
cli-forget-needs-yes = 未删除任何内容：标准输入不是终端，请用 --yes 确认。
cli-forget-cancelled = 已取消；未删除任何内容。
cli-forget-quit-tray = 已请求正在运行的 Pushmail 退出。
cli-forget-item-password = 系统密钥环中账户“{ $id }”的密码
cli-forget-item-autostart = 登录时启动项 { $path }
cli-forget-item-state = 状态数据库 { $path }（记录已通知过的邮件）
cli-forget-item-config = 配置文件 { $path }
cli-forget-removed = 已删除{ $what }
cli-forget-done = Pushmail 已清除所有数据。程序仍已安装；如需卸载请运行：sudo apt purge pushmail pushmail-settings

## Sign-in (OAuth2)

state-signin_required = 需要登录
probe-signin-token = 来自 { $provider } 的登录令牌
error-signin-required = 在 { $provider } 的登录已失效（密码已更改或访问权限已撤销）
hint-signin-required = 请重新登录：设置 → 账户 → 登录，或运行 pushmail-cli account login ID。
error-signin-client = { $provider } 不接受此应用的注册（client id）
hint-signin-client = 请用 oauth_client_id 设置为 Pushmail 注册的 client id（见 docs/configuration.md 的“Sign-in”）。
error-signin-admin = 您的组织必须先在 { $provider } 批准 Pushmail，您才能登录
hint-signin-admin = 请让 IT 管理员为您的组织允许 Pushmail，然后重新登录。
error-signin-no-client-id = 未设置用于在 { $provider } 登录的 client id
error-signin-settings = { $provider } 的登录设置无法使用
error-signin-unavailable = 无法连接 { $provider } 的登录服务器
error-signin-no-mechanism = 服务器不支持使用令牌登录（OAUTHBEARER 或 XOAUTH2）
hint-signin-no-mechanism = 请检查服务器名称，或对此服务器使用密码。
error-signin-passwords-refused = 服务器已不再接受密码
hint-signin-passwords-refused = 请将此账户改为通过服务商登录：设置 → 账户，或在配置中设置 auth = "oauth2" 和 oauth_provider。
notify-signin-title = 请重新登录 { $account }
notify-signin-action = 登录…

## CLI sign-in: `pushmail-cli account login ID` and `account add --auth oauth2`.
cli-signin-open = 请在浏览器中打开此地址以登录：{ $url }
cli-signin-waiting-minutes = 正在等待你在浏览器中批准，最多 { $minutes } 分钟…
cli-signin-waiting-seconds = 正在等待你在浏览器中批准，最多 { $seconds } 秒…
cli-signin-no-browser = 无法打开浏览器；请自行打开上面的地址。
cli-signin-done = 已登录：账户“{ $id }”使用 { $provider } 登录，凭据保存在系统密钥环中。
cli-signin-tray-reloaded = 已通知正在运行的 Pushmail 使用新的登录。
cli-signin-tray-not-told = 无法通知正在运行的 Pushmail（{ $reason }）；它会在下次启动时使用新的登录。
cli-signin-not-oauth = 账户“{ $id }”使用密码而非登录：请先为它设置 auth = "oauth2" 和 oauth_provider（docs/configuration.md，“Sign-in”）。
cli-signin-no-password = 账户“{ $id }”在其服务商处登录，没有密码：请使用 pushmail-cli account login { $id }。
cli-signin-again = 运行 pushmail-cli account login { $id } 重试。
cli-signin-timed-out = 登录未在 { $seconds } 秒内完成；未保存任何内容。
cli-signin-denied = 在服务商页面上拒绝了访问；未保存任何内容。
cli-signin-wrong-state = 收到的登录回应不属于本次登录（可能是伪造的，或来自之前的尝试）；未保存任何内容。
cli-signin-wrong-issuer = 登录回应来自服务商以外的服务器；未保存任何内容。
cli-signin-provider-error = 服务商以错误（{ $code }）结束了登录；未保存任何内容。
cli-signin-bad-redirect = 登录回应不是 Pushmail 预期的内容；未保存任何内容。
cli-signin-listener = 无法在这台电脑上等待登录回应（{ $reason }）。
cli-signin-no-refresh-token = 服务商让你登录了，但没有给出长期许可（没有 refresh token），因此 Pushmail 无法保持登录；未保存任何内容。
cli-signin-no-refresh-token-hint = 请确认 scope 包含离线访问（oauth_scopes，例如 offline_access），然后重新登录。
cli-signin-later = 登录后 Pushmail 才能监视它：pushmail-cli account login { $id }
cli-account-signin = 登录（{ $provider }）
cli-forget-item-signin = 系统密钥环中账户“{ $id }”的登录
cli-signin-page-success = 你已登录。可以关闭此标签页并返回 Pushmail。
cli-signin-page-failure = 登录未完成。请返回 Pushmail 查看原因。

## Provider notes: what the user must do at the provider before Pushmail can log in.
## $provider is the provider's brand name: keep it as it is.
provider-note-app-password = 若要以密码登录 { $provider }，请在 { $provider } 账户的安全设置中创建应用专用密码，并在此处输入；平时使用的密码会被拒绝。
provider-note-enable-imap = 请先开启 IMAP 访问：在网页上登录 { $provider }，并在邮箱设置中启用。开启之前，服务器会拒绝 Pushmail 的连接。
provider-note-authorization-code = { $provider } 需要使用授权码代替密码：请在 { $provider } 网页版邮箱的设置中开启 IMAP 服务并生成授权码，然后将授权码填入密码栏。

## Account discovery: finding the settings from the address (Settings and pushmail-cli).
## $where is a place being looked at (a web address, a server name, or one of the phrases below).
discover-looking = 正在查找：{ $where }…
discover-looking-providers = 已知服务商列表
discover-looking-mx = { $domain } 的邮件服务器（MX）
discover-looking-srv = DNS 服务记录 { $name }
discover-source-provider-list = 来自服务商列表（{ $provider }）
discover-source-provider-mx = 来自服务商列表：此域名的邮件由 { $provider } 接收（{ $mx }）
discover-source-autoconfig = 来自 { $domain } 自己发布的配置
discover-source-autoconfig-mx = 来自 { $domain } 的邮件托管商的配置（{ $mx }）
discover-source-srv = 来自 { $domain } 的 DNS 服务记录（{ $record }）
discover-source-guess = 推测：{ $host } 以有效证书作出了应答
discover-warning-outside = { $host } 不属于 { $domain }，而属于 { $owner }。仅当你预期使用此服务器时才继续。
discover-warning-look-alike = { $domain } 并不是 { $imitates }，只是看起来相似。在输入密码前请核对地址。
discover-warning-insecure = 这些设置是从 { $url } 以未加密方式获取的，可能已在传输途中被篡改。
discover-not-found = 未找到 { $domain } 的设置。请手动输入服务器。
discover-login-password = 使用密码
discover-login-signin = 通过 { $provider } 登录
cli-discover-found = 已找到 { $address } 的设置，{ $source }：
cli-discover-server = 服务器：{ $server }（{ $security }）
cli-discover-user = 用户名：{ $user }，{ $login }
cli-discover-check = 请检查：{ $warning }
cli-discover-confirm = 使用这些设置吗？[Y/n]
cli-discover-needs-yes = 已找到设置，但没有可用于确认的终端：添加 --yes 以使用这些设置，或用 --host 指定服务器。
cli-discover-declined = 未保存任何内容。请用 --host、--port、--security 和 --username 自行提供设置。

## 设置 → 添加账户，从电子邮件地址开始（ui/src/pages/addAccount.ts）。
## $address 是电子邮件地址：保持原样。
settings-add-intro = 输入你的名称和电子邮件地址：Pushmail 会替你查找服务器设置，并在你核对之后才询问密码。
settings-add-name = 名称（可选）
settings-add-email-help = 根据地址的域名查找设置。只发送地址，绝不发送密码。
settings-add-continue = 继续
settings-add-manual = 手动配置
settings-add-looking = 正在查找 { $address } 的设置…
settings-add-notes = 尝试过的位置
settings-add-found-title = 已找到 { $address } 的设置
settings-add-check = 继续之前请先核对
settings-add-login = 登录
settings-add-source = 来源
settings-add-test-save = 测试并保存

## 设置 → 活动：通知上的“打开”会打开那封邮件，和弹出通知上的一样。

settings-activity-open = 打开
# A toast when the tray is not running.
settings-activity-open-not-running = Pushmail 未在运行，无法打开这封邮件。请启动 Pushmail 后重试。
# A toast; $message is the tray's own sentence (e.g. no default mail application is set).
settings-activity-open-failed = 无法打开这封邮件：{ $message }
