# Pushmail — العربية الفصحى المعاصرة.
# ترجمة locales/en/pushmail.ftl (الملف المرجعي: كل مفتاح موجود فيه).
# صيغ الجمع الست في CLDR: zero (0)، one (1)، two (2)، few (3–10)، many (11–99)، other (100…).
# A U+200E LEFT-TO-RIGHT MARK (invisible) stands before "@" where a line shows a bare
# "@domain" example, so the "@" stays on the left of the domain in right-to-left text.

app-name = Pushmail

## Tray: tooltip and icon title

tray-unread-total = { $count ->
    [zero] لا توجد رسائل غير مقروءة
    [one] رسالة واحدة غير مقروءة
    [two] رسالتان غير مقروءتين
    [few] { $count } رسائل غير مقروءة
    [many] { $count } رسالة غير مقروءة
   *[other] { $count } رسالة غير مقروءة
}
tray-paused = الإشعارات متوقفة مؤقتًا
tray-paused-until = الإشعارات متوقفة مؤقتًا حتى { $time }
tray-paused-until-tomorrow = الإشعارات متوقفة مؤقتًا حتى الغد الساعة { $time }

## Accounts: one line per account, in the tray menu and the tooltip

account-line = { $name } — { $count ->
    [zero] لا رسائل غير مقروءة
    [one] رسالة غير مقروءة
    [two] رسالتان غير مقروءتين
    [few] { $count } رسائل غير مقروءة
    [many] { $count } رسالة غير مقروءة
   *[other] { $count } رسالة غير مقروءة
}
account-line-state = { $name } — { $state }
state-connecting = جارٍ الاتصال…
state-push = متصل
state-polling = { $seconds ->
    [one] يتحقق كل ثانية
    [two] يتحقق كل ثانيتين
    [few] يتحقق كل { $seconds } ثوانٍ
   *[other] يتحقق كل { $seconds } ثانية
}
state-backoff = غير متصل، تجري إعادة المحاولة
state-error = خطأ
state-auth_failed = رُفضت كلمة المرور
state-stopped = متوقف
state-disabled = معطّل

## Tray menu

menu-open-mail-client = فتح عميل البريد
menu-check-now = التحقق الآن
menu-pause = إيقاف الإشعارات مؤقتًا
menu-pause-30m = لمدة 30 دقيقة
menu-pause-1h = لمدة ساعة
menu-pause-tomorrow = حتى صباح الغد
menu-resume = استئناف الإشعارات
menu-settings = الإعدادات…
menu-quit = إنهاء

## Notifications

notify-action-open = فتح
notify-action-mark-read = تعليم كمقروءة
notify-summary-title = { $count ->
    [zero] لا رسائل جديدة في { $account }
    [one] رسالة جديدة في { $account }
    [two] رسالتان جديدتان في { $account }
    [few] { $count } رسائل جديدة في { $account }
    [many] { $count } رسالة جديدة في { $account }
   *[other] { $count } رسالة جديدة في { $account }
}
notify-summary-from = { $others ->
    [zero] من { $names }
    [one] من { $names } ومرسل آخر
    [two] من { $names } ومرسلَين آخرَين
    [few] من { $names } و{ $others } مرسلين آخرين
    [many] من { $names } و{ $others } مرسلًا آخر
   *[other] من { $names } و{ $others } مرسل آخر
}
notify-count-only = { $count ->
    [zero] لا رسائل جديدة في { $account }
    [one] رسالة جديدة في { $account }
    [two] رسالتان جديدتان في { $account }
    [few] { $count } رسائل جديدة في { $account }
    [many] { $count } رسالة جديدة في { $account }
   *[other] { $count } رسالة جديدة في { $account }
}
sender-unknown = (مرسل غير معروف)
subject-none = (بلا موضوع)
subject-unreadable = (تعذّرت قراءة هذه الرسالة)
notify-attention-title = { $account } بحاجة إلى انتباهك

## Tray process (pushmail): extra lines

account-line-with-state = { $line } ({ $state })
notify-sender-only-body = رسالة جديدة في { $account }
notify-attention-body = { $detail }
open-failed-title = تعذّر فتح بريدك
open-no-mail-client = لم يُعيَّن تطبيق بريد افتراضي. اختر تطبيقًا لروابط البريد الإلكتروني من إعدادات سطح المكتب، أو عيّن أمر فتح في إعدادات Pushmail ← عام.
open-failed-command = تعذّر تشغيل { $program }: { $reason }
config-error-title = يوجد خطأ في ملف إعدادات Pushmail

## Settings window (pushmail-settings, ui/)

settings-window-title = إعدادات Pushmail
settings-loading = جارٍ التحميل…
settings-nav-label = أقسام الإعدادات
settings-nav-accounts = الحسابات
settings-nav-folders = المجلدات
settings-nav-notifications = الإشعارات
settings-nav-general = عام
settings-nav-activity = النشاط
settings-tray-running = يعمل Pushmail الآن
settings-tray-stopped = لا يعمل Pushmail
settings-tray-unreachable = تعذّر الوصول إلى Pushmail
settings-tray-start = تشغيل Pushmail
settings-tray-starting = جارٍ التشغيل…
settings-tray-started = يعمل Pushmail الآن.
settings-tray-stopped-banner = لا يعمل Pushmail، لذا لا توجد حالة مباشرة لعرضها. إعداداتك محفوظة وستُطبَّق عند تشغيله.

settings-save = حفظ
settings-saving = جارٍ الحفظ…
settings-cancel = إلغاء
settings-back = رجوع
settings-saved = تم الحفظ.
settings-saved-not-running = تم الحفظ. لا يعمل Pushmail حاليًا؛ سيُطبَّق التغيير عند تشغيله.
settings-saved-reload-failed = تم الحفظ، لكن Pushmail قيد التشغيل لم يطبّق التغيير: { $message }
settings-required = مطلوب

settings-error-invalid = يُرجى التحقق من هذا
settings-error-config_unreadable = ملف الإعدادات يحتاج إلى إصلاح
settings-error-config_write = تعذّر حفظ الإعدادات
settings-error-not_found = هذا الحساب لم يعد موجودًا
settings-error-keyring = لم تستجب حلقة المفاتيح كما ينبغي
settings-error-connect = تعذّر الوصول إلى الخادم
settings-error-tray_not_running = لا يعمل Pushmail
settings-error-tray = لم يستجب Pushmail
settings-error-spawn = تعذّر تشغيل Pushmail
settings-error-io = حدث خطأ ما
settings-error-internal = حدث خطأ ما
settings-error-sign_in = لم يكتمل تسجيل الدخول
settings-config-broken = لن تعدّل الإعدادات ملفًا لا تستطيع قراءته. أصلِح الملف، أو انقله إلى مكان آخر للبدء من جديد، ثم افتح الإعدادات مرة أخرى.

## Settings → Accounts

settings-accounts-title = الحسابات
settings-accounts-subtitle = صناديق البريد التي يراقبها Pushmail بحثًا عن رسائل جديدة.
settings-welcome = مرحبًا بك في Pushmail. أضِف حساب البريد الذي تريد أن تصلك إشعاراته.
settings-account-add = إضافة حساب
settings-account-edit = تحرير
settings-account-remove = إزالة
settings-account-check-now = التحقق الآن
settings-account-unread = { $count ->
    [zero] لا رسائل غير مقروءة
    [one] رسالة غير مقروءة
    [two] رسالتان غير مقروءتين
    [few] { $count } رسائل غير مقروءة
    [many] { $count } رسالة غير مقروءة
   *[other] { $count } رسالة غير مقروءة
}
settings-account-no-live-state = لا توجد حالة مباشرة
settings-account-remove-confirm = أتريد إزالة { $name }؟ ستُحذف كلمة مروره من حلقة المفاتيح أيضًا. لن يُمَسّ البريد الموجود على الخادم.
settings-account-removed = أُزيل الحساب.
settings-account-saved = حُفظ الحساب.
settings-account-folders = { $count ->
    [zero] لا مجلدات
    [one] مجلد واحد
    [two] مجلدان
    [few] { $count } مجلدات
    [many] { $count } مجلدًا
   *[other] { $count } مجلد
}

settings-account-delay-seconds = { $count ->
    [one] يظهر البريد الجديد عادةً خلال ثانية من وصوله إلى الخادم
    [two] يظهر البريد الجديد عادةً خلال ثانيتين من وصوله إلى الخادم
    [few] يظهر البريد الجديد عادةً خلال { $count } ثوانٍ من وصوله إلى الخادم
   *[other] يظهر البريد الجديد عادةً خلال { $count } ثانية من وصوله إلى الخادم
}
settings-account-delay-minutes = { $count ->
    [one] يظهر البريد الجديد عادةً خلال دقيقة من وصوله إلى الخادم
    [two] يظهر البريد الجديد عادةً خلال دقيقتين من وصوله إلى الخادم
    [few] يظهر البريد الجديد عادةً خلال { $count } دقائق من وصوله إلى الخادم
   *[other] يظهر البريد الجديد عادةً خلال { $count } دقيقة من وصوله إلى الخادم
}
settings-account-delay-hours = { $count ->
    [one] يظهر البريد الجديد عادةً خلال ساعة من وصوله إلى الخادم
    [two] يظهر البريد الجديد عادةً خلال ساعتين من وصوله إلى الخادم
    [few] يظهر البريد الجديد عادةً خلال { $count } ساعات من وصوله إلى الخادم
   *[other] يظهر البريد الجديد عادةً خلال { $count } ساعة من وصوله إلى الخادم
}
settings-account-delay-basis = { $count ->
    [one] الوسيط لرسالة واحدة في آخر 24 ساعة
    [two] الوسيط لرسالتين في آخر 24 ساعة
    [few] الوسيط لـ { $count } رسائل في آخر 24 ساعة
   *[other] الوسيط لـ { $count } رسالة في آخر 24 ساعة
}

## Settings → Add or edit an account

settings-account-new-title = إضافة حساب
settings-account-edit-title = تحرير { $name }
settings-account-intro = يتصل Pushmail عبر IMAP أو POP3 ولا يقرأ إلا ترويسات الرسائل الجديدة.
settings-section-identity = الحساب
settings-section-server = الخادم
settings-section-advanced = خيارات متقدمة
settings-field-name = الاسم
settings-field-name-help = يظهر في قائمة علبة النظام وفي الإشعارات.
settings-field-email = عنوان البريد الإلكتروني
settings-field-id = معرّف الحساب
settings-field-id-help = قصير ودائم: تُسمّى به كلمة المرور في حلقة المفاتيح. يُسمح بالحروف والأرقام و«-» و«_».
settings-field-protocol = البروتوكول
settings-protocol-imap = IMAP
settings-protocol-pop3 = POP3
settings-field-protocol-pop3-help = لا يتيح POP3 الإشعار الفوري: يتحقق Pushmail { $seconds ->
        [one] كل ثانية
        [two] كل ثانيتين
        [few] كل { $seconds } ثوانٍ
       *[other] كل { $seconds } ثانية
    }، ولا يحذف أي شيء على الخادم ولا يغيّره أبدًا، ولا يستطيع معرفة متى قرأت بريدك في مكان آخر؛ ويُظهر العدد البريد الجديد منذ آخر مرة فتحت فيها عميل البريد.
settings-field-host = خادم IMAP
settings-field-host-pop3 = خادم POP3
settings-field-port = المنفذ
settings-field-security = الأمان
settings-security-tls = TLS
settings-security-starttls = STARTTLS
settings-security-starttls-pop3 = STARTTLS (STLS)
settings-security-plain = بلا
settings-field-security-help = الخيار TLS هو الأكثر أمانًا. لا يُسمح بـ«بلا» إلا لخادم على هذا الحاسوب.
settings-field-username = اسم المستخدم
settings-field-password = كلمة المرور
settings-field-password-keep = اتركها فارغة للإبقاء على كلمة المرور المحفوظة
settings-field-password-help = تُحفظ في حلقة مفاتيح النظام، ولا تُكتب أبدًا في ملف الإعدادات.
settings-field-password-source = مصدر كلمة المرور
settings-password-source-keyring = حلقة مفاتيح النظام
settings-password-source-command = أمر
settings-field-password-command = أمر يطبع كلمة المرور
settings-field-ca-file = شهادة CA إضافية (ملف PEM)
settings-field-ca-file-help = فقط للخوادم التي تستخدم جهة إصدار شهادات خاصة بها.
settings-field-open = النقر على الإشعار يفتح
settings-open-default = عميل البريد
settings-open-url = صفحة بريد ويب
settings-open-command = أمر
settings-field-enabled = مراقبة هذا الحساب
settings-test = اختبار الاتصال
settings-testing = جارٍ الاختبار…
settings-test-ok = كل شيء يعمل.
settings-test-failed = توقّف الاختبار عند «{ $step }».
settings-test-hint = ما الذي يجب فعله
settings-test-folders = المجلدات المراد مراقبتها
settings-test-step-password = كلمة المرور
settings-test-step-tcp = الوصول إلى الخادم
settings-test-step-tls = اتصال آمن
settings-test-step-login = تسجيل الدخول
settings-test-step-capabilities = ميزات الخادم
settings-test-step-folders = المجلدات
settings-test-step-mailbox = صندوق البريد

## Settings → Add or edit an account: signing in at the provider (OAuth2) instead of a password.
## $provider is a brand name (Google, Microsoft, Yahoo, AOL, Fastmail).
settings-field-signin = طريقة الدخول
settings-signin-password = كلمة مرور
settings-signin-with = تسجيل الدخول عبر { $provider }
settings-signin-custom = تسجيل الدخول عبر مزوّد آخر (مخصّص)
settings-signin-button = تسجيل الدخول
settings-signin-help = يفتح صفحة المزوّد في متصفحك. لا يرى Pushmail كلمة مرورك أبدًا؛ ويُحفظ الإذن الذي يُمنح له في حلقة مفاتيح النظام.
settings-signin-waiting = في انتظار موافقتك في المتصفح لمدة تصل إلى { $minutes ->
    [one] دقيقة واحدة
   *[other] { $minutes } دقائق
}…
settings-signin-url = لم يُفتح المتصفح، أو تستخدم متصفحًا آخر؟ افتح هذا العنوان:
settings-signin-copy = نسخ
settings-signin-copied = نُسخ
settings-signin-cancel = إلغاء
settings-signin-done = تم تسجيل الدخول. يلي ذلك اختبار الاتصال.
settings-signin-again-help = تم تسجيل الدخول. سجّل الدخول مجددًا عندما يطلب Pushmail ذلك، أو لمنحه إذنًا جديدًا.
settings-field-oauth-client-id = معرّف العميل
settings-field-oauth-authorization-endpoint = عنوان التفويض
settings-field-oauth-token-endpoint = عنوان الرموز
settings-field-oauth-scopes = النطاقات
settings-field-oauth-scopes-help = مفصولة بمسافات، مثلًا: openid offline_access email imap
settings-field-oauth-issuer = المُصدِر (اختياري)
settings-signin-again = اضغط «تسجيل الدخول» للمحاولة مجددًا.
settings-signin-cancelled = أُلغي تسجيل الدخول؛ لم يُحفظ شيء.

## Settings → Folders

settings-folders-title = المجلدات
settings-folders-subtitle = اختر المجلدات المراد مراقبتها. يصل البريد الجديد عادةً إلى INBOX (الوارد)، وقد تنقل عوامل التصفية بعضه إلى مجلدات أخرى.
settings-folders-account = الحساب
settings-folders-loading = جارٍ طلب قائمة المجلدات من الخادم…
settings-folders-reload = إعادة تحميل القائمة
settings-folders-filter = تصفية المجلدات
settings-folders-missing = غير موجود على الخادم
settings-folders-container = يحتوي على مجلدات أخرى فقط
settings-folders-watched = { $count ->
    [zero] لا مجلدات مراقبة
    [one] مجلد واحد مراقب
    [two] مجلدان مراقبان
    [few] { $count } مجلدات مراقبة
    [many] { $count } مجلدًا مراقبًا
   *[other] { $count } مجلد مراقب
}
settings-folders-no-accounts = أضِف حسابًا أولًا.
settings-folders-pop3 = { $name } حساب POP3: له صندوق بريد واحد مراقَب دائمًا، ولا مجلدات للاختيار منها.
settings-folders-save = حفظ المجلدات
settings-folders-all-but-special = الكل ما عدا المهملات وغير المرغوب فيه والمُرسَل والمسودات
settings-folders-all-but-special-hint = يستبعد أيضًا «كل البريد» و«المميّزة بنجمة» لأنهما يكرّران بريد المجلدات الأخرى. يمكنك تعديل الاختيار قبل الحفظ.
settings-folder-special-all = كل البريد
settings-folder-special-archive = الأرشيف
settings-folder-special-drafts = المسودات
settings-folder-special-flagged = المميّزة بنجمة
settings-folder-special-junk = غير المرغوب فيه
settings-folder-special-sent = المُرسَل
settings-folder-special-trash = المهملات

## Settings → Notifications

settings-notifications-title = الإشعارات
settings-notifications-subtitle = متى يعرض Pushmail إشعارًا منبثقًا. أما العدد في علبة النظام فيُحدَّث دائمًا.
settings-notify-enabled = عرض الإشعارات المنبثقة
settings-quiet-hours = ساعات الهدوء
settings-quiet-hours-help = لا إشعارات منبثقة خلال هذا الوقت من كل يوم، إلا من المرسلين المهمّين.
settings-quiet-from = من
settings-quiet-to = إلى
settings-quiet-hours-summary = { $span ->
    [overnight] لا إشعارات منبثقة من { $start } حتى { $end } صباح اليوم التالي.
   *[day] لا إشعارات منبثقة من { $start } حتى { $end }.
}
settings-vip = المرسلون المهمّون (VIP)
settings-vip-help = يظهر إشعار دائمًا للبريد الوارد من هذه العناوين أو النطاقات، حتى في ساعات الهدوء أو من حساب مكتوم.
settings-vip-placeholder = boss@example.com أو ‎@family.example
settings-vip-add = إضافة
settings-vip-remove = إزالة { $address }
settings-vip-invalid = أدخل عنوانًا مثل ana@example.com، أو نطاقًا كاملًا مثل ‎@example.com.
settings-vip-none = لا يوجد مرسلون مهمّون.
settings-summary = وصول رسائل كثيرة معًا
settings-summary-threshold = اعرض ملخصًا واحدًا عندما يصل معًا أكثر من هذا العدد من الرسائل
settings-per-account = لكل حساب
settings-mute = كتم
settings-preview = يعرض الإشعار
settings-preview-full = المرسل والموضوع
settings-preview-sender = المرسل فقط
settings-preview-count = العدد فقط

## Settings → General

settings-general-title = عام
settings-autostart = تشغيل Pushmail عند تسجيل الدخول
settings-autostart-help = يبقى Pushmail في علبة النظام ويستهلك القليل من الذاكرة أثناء انتظار البريد.
settings-language = اللغة
settings-language-auto = تلقائي ({ $language })
settings-mail-client = عميل البريد
settings-mail-client-help = ما يشغّله زر «فتح» في الإشعار وفي قائمة علبة النظام، ما لم يحدّد الحساب غير ذلك.
settings-mail-client-default = تطبيق البريد الافتراضي لسطح المكتب
settings-mail-client-command = هذا الأمر
settings-config-file = ملف الإعدادات
language-name-en = English
language-name-it = Italiano
language-name-zh-TW = 繁體中文
language-name-zh-CN = 简体中文
language-name-ar = العربية

## Settings → Activity

settings-activity-title = النشاط
settings-activity-subtitle = ما فعله Pushmail مؤخرًا، كما يرويه البرنامج قيد التشغيل.
settings-activity-recent = الإشعارات الأخيرة
settings-activity-none = لا إشعارات بعد.
settings-activity-problems = المشكلات
settings-activity-no-problems = لا مشكلات: جميع الحسابات تعمل جيدًا.
settings-activity-what-to-do = ما الذي يجب فعله
settings-activity-refresh = تحديث
settings-activity-unavailable = شغّل Pushmail لترى ما فعله مؤخرًا.
settings-activity-edit-account = تحرير الحساب
settings-activity-delay-seconds = { $count ->
    [one] ظهر الإشعار خلال ثانية من وصول الرسالة إلى الخادم
    [two] ظهر الإشعار خلال ثانيتين من وصول الرسالة إلى الخادم
    [few] ظهر الإشعار خلال { $count } ثوانٍ من وصول الرسالة إلى الخادم
   *[other] ظهر الإشعار خلال { $count } ثانية من وصول الرسالة إلى الخادم
}
settings-activity-delay-minutes = { $count ->
    [one] ظهر الإشعار خلال دقيقة من وصول الرسالة إلى الخادم
    [two] ظهر الإشعار خلال دقيقتين من وصول الرسالة إلى الخادم
    [few] ظهر الإشعار خلال { $count } دقائق من وصول الرسالة إلى الخادم
   *[other] ظهر الإشعار خلال { $count } دقيقة من وصول الرسالة إلى الخادم
}
settings-activity-delay-hours = { $count ->
    [one] ظهر الإشعار خلال ساعة من وصول الرسالة إلى الخادم
    [two] ظهر الإشعار خلال ساعتين من وصول الرسالة إلى الخادم
    [few] ظهر الإشعار خلال { $count } ساعات من وصول الرسالة إلى الخادم
   *[other] ظهر الإشعار خلال { $count } ساعة من وصول الرسالة إلى الخادم
}
settings-activity-hint-auth_failed = رفض الخادم اسم المستخدم أو كلمة المرور. حرّر الحساب وأدخل كلمة المرور مجددًا (يطلب بعض مزوّدي الخدمة كلمة مرور خاصة بالتطبيقات) ثم احفظ: سيعيد Pushmail المحاولة فورًا.
settings-activity-hint-error = اختبر الاتصال من صفحة الحساب لمعرفة الخطوة التي تفشل وسبب فشلها.
settings-activity-hint-backoff = يتعذّر على Pushmail الوصول إلى الخادم، وهو يواصل المحاولة. تأكّد من أن هذا الحاسوب متصل بالإنترنت؛ فإن كان متصلًا، فاختبر الاتصال من صفحة الحساب.

## Command line (pushmail-cli): lines a person reads in a terminal

cli-new-mail = [{ $where }] رسالة جديدة من { $from }: { $subject }
cli-new-mail-catch-up = [{ $where }] رسالة جديدة وصلت أثناء غيابك من { $from }: { $subject }
cli-unread = [{ $where }] { $count ->
    [zero] لا رسائل غير مقروءة
    [one] رسالة غير مقروءة
    [two] رسالتان غير مقروءتين
    [few] { $count } رسائل غير مقروءة
    [many] { $count } رسالة غير مقروءة
   *[other] { $count } رسالة غير مقروءة
}
cli-seen = [{ $where }] قُرئت الرسالة { $uid } في مكان آخر
cli-strategy = الاستراتيجية: { $strategy }
cli-testing = جارٍ اختبار الاتصال…
cli-ask-host = خادم IMAP (اسم المضيف)
cli-ask-security = الأمان (tls أو starttls أو plain)
cli-ask-port = المنفذ
cli-ask-username = اسم المستخدم
cli-ask-email = عنوان البريد الإلكتروني
cli-ask-id = اسم مختصر لهذا الحساب
cli-ask-password = كلمة المرور لـ { $user }@{ $host }:
cli-account-saved = حُفظ الحساب «{ $id }» في { $path }.
cli-account-not-saved = لم يُحفظ الحساب. أصلِح المشكلة المذكورة أعلاه، أو أضِف الخيار --no-test لحفظه على أي حال.
cli-account-removed = أُزيل الحساب «{ $id }».
cli-password-stored = خُزّنت كلمة مرور «{ $id }» في حلقة مفاتيح النظام.
cli-no-accounts = لا توجد حسابات. أضِف حسابًا بالأمر: pushmail-cli account add
cli-account-disabled = (معطّل)

## Connection diagnostics: what went wrong and what to do, shown by `pushmail-cli account test`,
## Settings → Test connection and the tray's "needs attention" popup. Logs stay in English.
## Type configuration keys (ca_file, password_command, security = "tls", connect_timeout_secs…)
## and commands (pushmail-cli account password ID) exactly as here: people copy them.
## $reason is the server's or the system's own text and stays as they wrote it.

list-separator = {"، "}

error-timeout = انتهت المهلة أثناء { $step }
error-tls = فشل TLS: { $reason }
error-starttls-unavailable = لا يوفّر الخادم STARTTLS، لذا لا يمكن تشفير الاتصال
error-starttls-refused = رفض الخادم STARTTLS: { $reason }
error-login-disabled = لا يسمح الخادم بتسجيل الدخول عبر اتصال غير مشفّر
error-auth = فشل تسجيل الدخول: { $reason }
error-throttled = الخادم مشغول أو يحدّ من عدد الاتصالات: { $reason }
error-protocol = خطأ في البروتوكول: { $reason }
error-unsafe = رُفض اتصال غير آمن: { $reason }
error-secret-no-keyring = لا تتوفر حلقة مفاتيح للنظام: { $reason }
error-secret-locked = حلقة مفاتيح النظام مقفلة أو رفضت الوصول: { $reason }
error-secret-missing = لا توجد كلمة مرور مخزّنة في حلقة مفاتيح النظام للحساب `{ $id }`
error-secret-keyring = فشلت حلقة المفاتيح: { $reason }
error-secret-command = فشل password_command: { $reason }

# How a problem reads: the step it happened in, the other side's own words after it.
step-connecting = الاتصال
step-tls-handshake = مصافحة TLS
step-greeting = انتظار ترحيب الخادم
step-starttls = STARTTLS
step-capabilities = قراءة ميزات الخادم
step-logging-in = تسجيل الدخول
step-capabilities-after-login = قراءة ميزات الخادم بعد تسجيل الدخول
step-listing-folders = سرد المجلدات
step-asking-for-notify = طلب NOTIFY
step-selecting-folder = تحديد مجلد
step-starting-idle = بدء IDLE
step-waiting-in-idle = الانتظار في IDLE
step-ending-idle = إنهاء IDLE (يبدو أن الاتصال انقطع)
step-marking-read = تعليم الرسالة كمقروءة
step-fetching-new = جلب الرسائل الجديدة
step-listing-new = سرد الرسائل الجديدة
step-counting-unread = عدّ الرسائل غير المقروءة
step-enabling-qresync = تفعيل QRESYNC
step-finding-highest-uid = البحث عن أعلى UID
step-checking-connection = فحص الاتصال
step-asking-folder-status = الاستعلام عن حالة مجلد
problem-in-step = { $step }: { $what }
problem-with-words = { $what }: { $words }
problem-no-reason = لم يذكر الخادم السبب
problem-at-host = { $what } ({ $host })
net-unreachable = تعذّر الوصول إلى { $host }:{ $port }
net-keepalive = تعذّر تفعيل TCP keepalive
net-tls-handshake = فشلت مصافحة TLS مع { $host }
net-failed = فشل الاتصال
net-closed = أغلق الخادم الاتصال
net-lost = انقطع الاتصال
net-bye = أنهى الخادم الجلسة
net-bye-instead-of-idle = أنهى الخادم الجلسة بدلًا من الدخول في IDLE
limit-line = أرسل الخادم سطرًا أطول من { $n } بايت
limit-literal = أعلن الخادم عن قيمة حرفية أكبر من { $n } بايت
limit-response = أرسل الخادم ردًّا أكبر من { $n } بايت
limit-depth = تجاوز الخادم { $n } مستوى من الأقواس المتداخلة
proto-unparsable = أرسل الخادم ردًّا لا يمكن تحليله
proto-refused = رفض الخادم الأمر
proto-greeting = ترحيب غير متوقع
proto-unrequested = أرسل الخادم بيانات لم تُطلب بعد الترحيب؛ توقّف الاتصال
proto-overlong-line = أرسل الخادم سطرًا طويلًا جدًا
proto-preauth = رحّب الخادم بـ PREAUTH (الجلسات المصادَق عليها مسبقًا غير مدعومة)
proto-no-uidvalidity = لم يذكر الخادم UIDVALIDITY للمجلد { $folder }
proto-session-lost = فُقدت الجلسة
proto-other = تعذّر استخدام ردّ الخادم
proto-no-uidl = لا يدعم خادم POP3 هذا الأمر UIDL، لذا لا يستطيع Pushmail التمييز بين البريد الجديد والقديم
proto-bad-listing = قائمة الرسائل التي أرسلها الخادم غير متّسقة (معرّف رسالة مكرّر أو غير صالح، أو عدد لا يطابق)
proto-no-login-method = لا يقدّم الخادم أي طريقة لتسجيل الدخول يستطيع Pushmail استخدامها (USER أو SASL PLAIN)
unsafe-data-before-starttls = أرسل الخادم بيانات قبل طلب STARTTLS (ربما هجوم حقن)؛ توقّف الاتصال
unsafe-data-after-starttls = أرسل الخادم بيانات بعد الموافقة على STARTTLS (ربما هجوم حقن)؛ توقّف الاتصال
unsafe-preauth = رحّب الخادم بـ PREAUTH، فلا يمكن استخدام STARTTLS؛ توقّف الاتصال كي لا يستمر دون تشفير
unsafe-foreign-tag = ردّ الخادم على أمر لم يُرسَل قط (ربما هجوم حقن)
store-disk-full = القرص ممتلئ
store-failed = رفضت قاعدة البيانات الكتابة
error-store = تعذّرت الكتابة في قاعدة بيانات الحالة { $path }: { $reason }
error-folder-missing = المجلد { $folder } غير موجود على الخادم
hint-folder-missing = ما زالت المجلدات الأخرى مراقَبة. إن أُعيدت تسميته فاختره من جديد من قائمة الخادم (الإعدادات ← المجلدات)، أو أزِله من الحساب.
config-ca-unreadable = تعذّرت قراءة ca_file { $path }
config-ca-not-pem = الملف ca_file { $path } ليس ملف شهادات PEM
config-ca-empty = لا يحتوي ca_file { $path } على أي شهادة PEM
config-ca-damaged = ca_file { $path }: الشهادة { $n } من { $count } تالفة؛ انسخ الملف كاملًا من جديد
config-ca-unusable = لا يمكن استخدام ca_file { $path } شهادةً موثوقة
config-bad-host = { $host } ليس اسم مضيف صالحًا
config-plain-not-loopback = لا يُسمح بـ `security = "plain"` إلا لمضيف محلي (loopback)، وليس لـ { $host }
config-unsendable-password = يحتوي اسم المستخدم أو كلمة المرور على فاصل أسطر أو محرف تحكم آخر لا يمكن لتسجيل دخول POP3 إرساله؛ لم يُرسَل شيء
tls-invalid = شهادة الخادم غير صالحة
tls-incompatible = TLS لدى الخادم قديم جدًا أو غير متوافق
tls-other = فشل اتصال TLS
tls-system-roots = تعذّر تحميل شهادات النظام الموثوقة
tls-setup = فشل إعداد TLS

tls-unknown-issuer = شهادة الخادم موقّعة من جهة غير معروفة
tls-bad-signature = شهادة الخادم موقّعة من جهة غير معروفة (لا يتطابق توقيعها مع جهة CA الموثوقة التي تذكرها)
tls-expired = انتهت صلاحية شهادة الخادم
tls-not-valid-yet = شهادة الخادم لم تصبح صالحة بعد (تحقّق من ساعة هذا الحاسوب)
tls-wrong-host = شهادة الخادم صادرة لاسم مضيف آخر
tls-revoked = أُلغيت شهادة الخادم

hint-network = تحقّق من اسم المضيف والمنفذ، ومن أن هذا الحاسوب متصل بالشبكة.
hint-server-left = أنهى الخادم الجلسة وذكر السبب. سيعيد Pushmail المحاولة تلقائيًا؛ وإن استمر ذلك فاسأل مزوّد البريد.
hint-timeout = لم يستجب الخادم في الوقت المحدد. تحقّق من المضيف والمنفذ، أو زِد connect_timeout_secs (للاتصال) أو command_timeout_secs (للأوامر) إذا كانت الشبكة بطيئة.
hint-tls = شهادة الخادم غير موثوقة لاسم المضيف هذا. إذا كان الخادم يستخدم جهة إصدار شهادات خاصة به، فعيّن ca_file في إعدادات الحساب؛ وإلا فتحقّق من اسم المضيف.
hint-starttls = استخدم security = "tls" (المنفذ 993 عادةً) إن كان الخادم يدعمه، أو اسأل مزوّد الخدمة؛ لا يرسل Pushmail كلمة المرور دون تشفير أبدًا.
hint-login-disabled = استخدم security = "tls" أو "starttls" لهذا الحساب.
hint-auth = تحقّق من اسم المستخدم، وعيّن كلمة المرور من جديد (pushmail-cli account password ID). يطلب بعض مزوّدي الخدمة كلمة مرور خاصة بالتطبيقات.
hint-throttled = سيعيد Pushmail المحاولة بعد فترة. ربما تستهلك برامج بريد أخرى كل الاتصالات التي يسمح بها الخادم.
hint-protocol = تصرّف الخادم على نحو غير متوقع؛ سيعيد Pushmail المحاولة. إذا تكرّر ذلك، فأبلغ عنه مع السجل.
hint-no-uidl = لا يستطيع Pushmail مراقبة صندوق بريد POP3 بدون UIDL. استخدم IMAP لهذا الحساب إن كان مزوّد الخدمة يتيحه.
hint-no-login-method = يسجّل Pushmail الدخول إلى خوادم POP3 باستخدام USER/PASS أو SASL PLAIN. اسأل مزوّد الخدمة، أو استخدم IMAP لهذا الحساب.
hint-config = أصلح الحساب في ملف الإعدادات أو في الإعدادات.
hint-unsafe = لم يرسل Pushmail كلمة مرورك. قد تسبّب ذلك شبكةٌ تتدخّل في البريد (صفحة تسجيل الدخول في فندق أو مقهى)، وقد يكون هجومًا: جرّب شبكة أخرى، وأبلغ مزوّد البريد إن استمرّ ذلك.
hint-store = أفرغ بعض المساحة على القرص الذي يحفظ هذا الملف (أو أصلح أذوناته). سيعيد Pushmail المحاولة تلقائيًا ولن يكرّر أي إشعار.
hint-secret-no-keyring = شغّل حلقة مفاتيح سطح المكتب (GNOME Keyring، أو KWallet مع Secret Service) أو استخدم password_command في الحساب.
hint-secret-locked = افتح قفل حلقة المفاتيح (سجّل الدخول إلى جلسة سطح المكتب)، ثم اضغط «التحقق الآن».
hint-secret-missing = خزّنها بالأمر: pushmail-cli account password { $id }
hint-secret-keyring = تحقّق من أن حلقة المفاتيح تعمل (مثلًا باستخدام secret-tool)، ثم حاول مجددًا.
hint-secret-command = شغّل password_command الخاص بالحساب بنفسك، وتحقّق من أنه يطبع كلمة المرور في سطره الأول.

probe-password-keyring = موجودة في حلقة مفاتيح النظام
probe-password-command = من `{ $program }`
probe-password-typed = مكتوبة في النموذج (تُخزَّن عند الحفظ)
probe-cannot-reach = تعذّر الوصول إلى { $address }: { $reason }
probe-connected = متصل بـ { $address }
probe-tls = { $protocol } { $cipher }؛ الشهادة { $subject } صادرة عن { $issuer }، صالحة حتى { $until }
probe-plaintext = غير مشفّر (على هذا الحاسوب فقط)
probe-logged-in = تم تسجيل الدخول باسم { $user }
probe-capability = { $present ->
    [yes] { $capability } مدعومة
   *[no] { $capability } غير مدعومة
}
probe-folders = { $count ->
    [zero] لا مجلدات؛ المراقَبة: { $watched }
    [one] مجلد واحد؛ المراقَبة: { $watched }
    [two] مجلدان؛ المراقَبة: { $watched }
    [few] { $count } مجلدات؛ المراقَبة: { $watched }
    [many] { $count } مجلدًا؛ المراقَبة: { $watched }
   *[other] { $count } مجلد؛ المراقَبة: { $watched }
}
probe-pop3-messages = { $count ->
    [zero] لا رسائل في صندوق البريد
    [one] رسالة واحدة في صندوق البريد، لكل رسالة معرّف فريد (UIDL)
    [two] رسالتان في صندوق البريد، لكل رسالة معرّف فريد (UIDL)
    [few] { $count } رسائل في صندوق البريد، لكل رسالة معرّف فريد (UIDL)
    [many] { $count } رسالة في صندوق البريد، لكل رسالة معرّف فريد (UIDL)
   *[other] { $count } رسالة في صندوق البريد، لكل رسالة معرّف فريد (UIDL)
}
probe-folder-unread = { $folder } ({ $unread } غير مقروءة)
probe-folders-missing = { $count ->
    [one] مجلد مراقَب غير موجود على الخادم: { $folders }
    [two] مجلدان مراقَبان غير موجودين على الخادم: { $folders }
   *[other] مجلدات مراقَبة غير موجودة على الخادم: { $folders }
}

strategy-notify = NOTIFY: مراقبة { $folders ->
    [zero] لا مجلدات
    [one] مجلد واحد
    [two] المجلدين كليهما
    [few] المجلدات الـ{ $folders } كلها
    [many] المجلدات الـ{ $folders } كلها
   *[other] المجلدات الـ{ $folders } كلها
} عبر اتصال واحد
strategy-notify-one = دفع NOTIFY: { $home } عبر اتصال واحد
strategy-idle = إشعار فوري عبر IDLE: { $home } عبر اتصال واحد
strategy-idle-sweep = بدون NOTIFY: إشعار فوري لـ { $home }، وفحص { $others ->
    [zero] لا مجلدات أخرى
    [one] مجلد واحد آخر
    [two] مجلدين آخرين
    [few] { $others } مجلدات أخرى
    [many] { $others } مجلدًا آخر
   *[other] { $others } مجلد آخر
} كل { $seconds ->
    [one] ثانية
    [two] ثانيتين
    [few] { $seconds } ثوانٍ
   *[other] { $seconds } ثانية
}
strategy-poll = بدون IDLE: فحص { $folders ->
    [zero] لا مجلدات
    [one] مجلد واحد
    [two] مجلدين
    [few] { $folders } مجلدات
    [many] { $folders } مجلدًا
   *[other] { $folders } مجلد
} كل { $seconds ->
    [one] ثانية
    [two] ثانيتين
    [few] { $seconds } ثوانٍ
   *[other] { $seconds } ثانية
}
strategy-pop3 = POP3: فحص كل { $seconds ->
    [one] ثانية
    [two] ثانيتين
    [few] { $seconds } ثوانٍ
   *[other] { $seconds } ثانية
}؛ لا يستطيع POP3 معرفة متى قرأت بريدك في مكان آخر

## Account IDs: `pushmail-cli account add` and Settings → Add account
# A new account's ID is already taken by the account $existing; IDs that differ only in upper
# and lower case ("Work", "work") count as the same.
account-id-taken = يوجد حساب بالمعرّف «{ $existing }» بالفعل (المعرّفات التي لا تختلف إلا في الأحرف الكبيرة والصغيرة تُعدّ معرّفًا واحدًا)؛ اختر معرّفًا آخر.

## pushmail-cli status
cli-status-total = { $count ->
    [zero] لا توجد رسائل غير مقروءة
    [one] رسالة واحدة غير مقروءة
    [two] رسالتان غير مقروءتين
    [few] { $count } رسائل غير مقروءة
    [many] { $count } رسالة غير مقروءة
   *[other] { $count } رسالة غير مقروءة
}
cli-status-with-accounts = { $total } — { $accounts }
cli-status-account = { $name } { $count }
cli-status-problem = { $name }: { $state }
cli-status-separator = {"؛ "}
cli-status-not-running = Pushmail لا يعمل — شغّله بالأمر `pushmail`
cli-status-no-bus = يتعذّر الوصول إلى ناقل جلسة D-Bus الخاص بسطح المكتب ({ $reason })؛ شغّل هذا الأمر داخل جلسة سطح المكتب التي يعمل فيها Pushmail.
cli-status-no-answer = لم يستجب Pushmail ({ $reason })؛ إن تكرّر ذلك فأنهِه ثم شغّله من جديد.

## pushmail-cli forget-everything
cli-forget-nothing = لا شيء لنسيانه: لا يحتفظ Pushmail بأي بيانات لك هنا.
cli-forget-plan = سيزيل هذا كل ما يحتفظ به Pushmail لك:
cli-forget-confirm = هل تريد إزالة كل ذلك؟ [y/N]
cli-forget-needs-yes = لم تتم إزالة أي شيء: الإدخال القياسي ليس طرفية، لذا أكّد باستخدام ‎--yes.
cli-forget-cancelled = أُلغي الأمر؛ لم تتم إزالة أي شيء.
cli-forget-quit-tray = طُلب من Pushmail العامل أن يُغلق.
cli-forget-item-password = كلمة مرور الحساب «{ $id }» في حلقة مفاتيح النظام
cli-forget-item-autostart = مدخل التشغيل عند تسجيل الدخول { $path }
cli-forget-item-state = قاعدة بيانات الحالة { $path } (الرسائل التي أُعلن عنها)
cli-forget-item-config = ملف الإعدادات { $path }
cli-forget-removed = أُزيل: { $what }
cli-forget-done = نسي Pushmail كل شيء. تبقى البرامج مثبّتة؛ أزلها بالأمر: sudo apt purge pushmail pushmail-settings

## Sign-in (OAuth2)

state-signin_required = يلزم تسجيل الدخول
probe-signin-token = رمز تسجيل دخول من { $provider }
error-signin-required = لم يعد تسجيل الدخول لدى { $provider } صالحًا (تغيّرت كلمة المرور أو سُحب الإذن)
hint-signin-required = سجّل الدخول من جديد: الإعدادات ← الحسابات ← تسجيل الدخول، أو pushmail-cli account login ID.
error-signin-client = لا يقبل { $provider } تسجيل هذا التطبيق (client id)
hint-signin-client = عيّن client id مسجّلًا لـ Pushmail عبر oauth_client_id (docs/configuration.md، قسم “Sign-in”).
error-signin-admin = يجب أن توافق مؤسستك على Pushmail لدى { $provider } قبل أن تتمكن من تسجيل الدخول
hint-signin-admin = اطلب من مسؤول تقنية المعلومات السماح بـ Pushmail لمؤسستك، ثم سجّل الدخول من جديد.
error-signin-no-client-id = لم يُعيَّن client id لتسجيل الدخول لدى { $provider }
error-signin-settings = إعدادات تسجيل الدخول لـ { $provider } لا يمكن أن تعمل
error-signin-unavailable = تعذّر الوصول إلى خادم تسجيل الدخول لدى { $provider }
error-signin-no-mechanism = لا يتيح الخادم تسجيل الدخول برمز (OAUTHBEARER أو XOAUTH2)
hint-signin-no-mechanism = تحقّق من اسم الخادم، أو استخدم كلمة مرور لهذا الخادم.
error-signin-passwords-refused = لم يعد الخادم يقبل كلمات المرور
hint-signin-passwords-refused = حوّل هذا الحساب إلى تسجيل الدخول لدى المزوّد: الإعدادات ← الحسابات، أو auth = "oauth2" و oauth_provider في ملف الإعدادات.
notify-signin-title = سجّل الدخول إلى { $account } من جديد
notify-signin-action = تسجيل الدخول…

## CLI sign-in: `pushmail-cli account login ID` and `account add --auth oauth2`.
cli-signin-open = افتح هذا العنوان في متصفحك لتسجيل الدخول: { $url }
cli-signin-waiting-minutes = في انتظار موافقتك في المتصفح لمدة أقصاها { $minutes } دقيقة…
cli-signin-waiting-seconds = في انتظار موافقتك في المتصفح لمدة أقصاها { $seconds } ثانية…
cli-signin-no-browser = تعذّر فتح متصفح؛ افتح العنوان أعلاه بنفسك.
cli-signin-done = تم تسجيل الدخول: الحساب «{ $id }» يستخدم تسجيل الدخول عبر { $provider }، المحفوظ في حلقة مفاتيح النظام.
cli-signin-tray-reloaded = طُلب من Pushmail العامل استخدام تسجيل الدخول الجديد.
cli-signin-tray-not-told = تعذّر إبلاغ Pushmail العامل ({ $reason })؛ سيستخدم تسجيل الدخول الجديد عند تشغيله القادم.
cli-signin-not-oauth = الحساب «{ $id }» يستخدم كلمة مرور لا تسجيل دخول: اضبط له أولًا auth = "oauth2" و oauth_provider (docs/configuration.md، “Sign-in”).
cli-signin-no-password = الحساب «{ $id }» يسجّل الدخول لدى مزوّده ولا كلمة مرور له: استخدم pushmail-cli account login { $id }.
cli-signin-again = شغّل pushmail-cli account login { $id } للمحاولة من جديد.
cli-signin-timed-out = لم يكتمل تسجيل الدخول خلال { $seconds } ث؛ لم يُحفظ شيء.
cli-signin-denied = رُفض الوصول في صفحة المزوّد؛ لم يُحفظ شيء.
cli-signin-wrong-state = وصل ردّ لا ينتمي إلى تسجيل الدخول هذا (ربما مزوّر، أو متبقٍّ من محاولة سابقة)؛ لم يُحفظ شيء.
cli-signin-wrong-issuer = جاء ردّ تسجيل الدخول من خادم غير المزوّد؛ لم يُحفظ شيء.
cli-signin-provider-error = أنهى المزوّد تسجيل الدخول بخطأ ({ $code })؛ لم يُحفظ شيء.
cli-signin-bad-redirect = لم يكن ردّ تسجيل الدخول كما يتوقعه Pushmail؛ لم يُحفظ شيء.
cli-signin-listener = تعذّر انتظار ردّ تسجيل الدخول على هذا الحاسوب ({ $reason }).
cli-signin-no-refresh-token = سجّلك المزوّد دون إذن دائم (لا يوجد refresh token)، فلا يستطيع Pushmail البقاء متصلًا؛ لم يُحفظ شيء.
cli-signin-no-refresh-token-hint = تأكد من أن النطاقات تشمل الوصول دون اتصال (oauth_scopes، مثل offline_access)، ثم سجّل الدخول من جديد.
cli-signin-later = سجّل الدخول قبل أن يتمكن Pushmail من مراقبته: pushmail-cli account login { $id }
cli-account-signin = تسجيل دخول ({ $provider })
cli-forget-item-signin = تسجيل دخول الحساب «{ $id }» في حلقة مفاتيح النظام
cli-signin-page-success = تم تسجيل دخولك. يمكنك إغلاق هذا التبويب والعودة إلى Pushmail.
cli-signin-page-failure = لم يكتمل تسجيل الدخول. عُد إلى Pushmail لمعرفة السبب.

## Provider notes: what the user must do at the provider before Pushmail can log in.
## $provider is the provider's brand name: keep it as it is.
provider-note-app-password = لاستخدام كلمة مرور مع { $provider }، أنشئ كلمة مرور خاصة بالتطبيقات من إعدادات الأمان في حسابك لدى { $provider } وأدخلها هنا؛ فكلمة مرورك المعتادة مرفوضة.
provider-note-enable-imap = فعّل الوصول عبر IMAP أولًا: سجّل الدخول إلى { $provider } على الويب وفعّله من إعدادات البريد. وإلى أن تفعل ذلك، سيرفض الخادم اتصال Pushmail.
provider-note-authorization-code = يطلب { $provider } رمز تفويض بدلًا من كلمة المرور: فعّل IMAP من إعدادات بريد { $provider } على الويب، وأنشئ رمز تفويض هناك، ثم أدخله في خانة كلمة المرور.

## Account discovery: finding the settings from the address (Settings and pushmail-cli).
## $where is a place being looked at (a web address, a server name, or one of the phrases below).
discover-looking = جارٍ البحث في { $where }…
discover-looking-providers = قائمة مزوّدي البريد المعروفين
discover-looking-mx = خوادم البريد (MX) للنطاق { $domain }
discover-looking-srv = سجلات خدمة DNS ‏{ $name }
discover-source-provider-list = من قائمة المزوّدين ({ $provider })
discover-source-provider-mx = من قائمة المزوّدين: يستقبل { $provider } بريد هذا النطاق ({ $mx })
discover-source-autoconfig = من الإعدادات التي ينشرها { $domain } بنفسه
discover-source-autoconfig-mx = من إعدادات مستضيف البريد للنطاق { $domain } ({ $mx })
discover-source-srv = من سجل خدمة DNS للنطاق { $domain } ({ $record })
discover-source-guess = تخمين: أجاب { $host } بشهادة صالحة
discover-warning-outside = الخادم { $host } ليس جزءًا من { $domain }، بل يتبع { $owner }. لا تستخدمه إلا إذا كنت تتوقع هذا الخادم.
discover-warning-look-alike = النطاق { $domain } ليس { $imitates }، بل يشبهه فقط. تحقّق من العنوان قبل أن تعطيه كلمة مرور.
discover-warning-insecure = وصلت هذه الإعدادات دون تشفير من { $url } وربما غُيّرت في الطريق.
discover-not-found = لم يُعثر على إعدادات للنطاق { $domain }. أدخل الخادم يدويًا.
discover-login-password = بكلمة مرور
discover-login-signin = بتسجيل الدخول عبر { $provider }
cli-discover-found = عُثر على إعدادات { $address }، { $source }:
cli-discover-server = الخادم: { $server } ({ $security })
cli-discover-user = اسم المستخدم: { $user }، { $login }
cli-discover-check = تحقّق: { $warning }
cli-discover-confirm = هل تستخدم هذه الإعدادات؟ [Y/n]
cli-discover-needs-yes = عُثر على إعدادات، لكن لا توجد طرفية لتأكيدها: أضف ‎--yes لاستخدامها، أو حدّد الخادم بـ ‎--host.
cli-discover-declined = لم يُحفظ شيء. أدخل الإعدادات بنفسك باستخدام ‎--host و‎--port و‎--security و‎--username.

## الإعدادات ← إضافة حساب، بدءًا من عنوان البريد (ui/src/pages/addAccount.ts).
## ‏$address عنوان بريد إلكتروني: اتركه كما هو.
settings-add-intro = أدخل اسمك وعنوان بريدك الإلكتروني: يبحث Pushmail عن إعدادات الخادم نيابةً عنك، ولا يطلب كلمة المرور إلا بعد أن تراجعها.
settings-add-name = الاسم (اختياري)
settings-add-email-help = يُبحث عن الإعدادات انطلاقًا من نطاق العنوان. لا يُرسَل إلا العنوان، ولا تُرسَل كلمة مرور أبدًا.
settings-add-continue = متابعة
settings-add-manual = الإعداد يدويًا
settings-add-looking = جارٍ البحث عن إعدادات { $address }…
settings-add-notes = ما جرت تجربته
settings-add-found-title = عُثر على إعدادات { $address }
settings-add-check = تحقّق من هذا قبل المتابعة
settings-add-login = الدخول
settings-add-source = المصدر
settings-add-test-save = اختبار وحفظ

## الإعدادات ← النشاط: «فتح» على إشعار يفتح تلك الرسالة، كما في نافذته المنبثقة.

settings-activity-open = فتح
# A toast when the tray is not running.
settings-activity-open-not-running = Pushmail لا يعمل، لذا لا يمكنه فتح الرسالة. شغّل Pushmail ثم حاول مرة أخرى.
# A toast; $message is the tray's own sentence (e.g. no default mail application is set).
settings-activity-open-failed = تعذّر فتح الرسالة: { $message }
