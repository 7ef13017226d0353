# تطبيق الويب الخاص بالمُرحِّل (ui/relay.html و ui/src/relay/). انظر locales/en/relay.ftl.

relay-app-name = مُرحِّل Pushmail
relay-loading = جارٍ التحميل…

## تسجيل الدخول

relay-signin-title = تسجيل الدخول
relay-signin-help = أدخل رمز الوصول الذي أعطاك إياه مشغّل المُرحِّل. يُنشئه بهذا الأمر:
relay-signin-token = رمز الوصول
relay-signin-button = تسجيل الدخول
relay-signin-rejected = لم يقبل المُرحِّل هذا الرمز. تحقق منه أو اطلب رمزًا جديدًا.
relay-signin-expired = لم يعد رمز الوصول الخاص بك مقبولًا. سجّل الدخول مرة أخرى.
relay-signout = تسجيل الخروج

## التنقل والعناوين

relay-nav-mailboxes = صناديق البريد
relay-nav-devices = الأجهزة
relay-nav-webhooks = خطافات الويب
relay-title-mailboxes = صناديق البريد
relay-title-add-mailbox = إضافة صندوق بريد
relay-title-devices = الأجهزة
relay-title-webhooks = خطافات الويب

## الأخطاء

relay-error-title = لم ينجح ذلك
relay-error-network = تعذّر الوصول إلى المُرحِّل. تحقق من اتصالك وحاول مرة أخرى.
relay-error-slow-down = طلبات كثيرة جدًا. انتظر قليلًا وحاول مرة أخرى.
relay-error-status = ردّ المُرحِّل بخطأ (HTTP { $status }).
relay-error-auth_failed = رفض خادم البريد اسم المستخدم أو كلمة المرور
relay-error-unreachable = تعذّر الوصول إلى خادم البريد
relay-error-tls_failed = لا يوجد اتصال آمن بخادم البريد
relay-error-connect_failed = تعذّر الاتصال بخادم البريد
relay-error-host_not_allowed = لا يتصل المُرحِّل بهذا الخادم
relay-error-bad_field = بعض الحقول غير صحيحة
relay-error-missing_field = بعض الحقول فارغة
relay-error-bad_port = المنفذ غير صحيح
relay-form-incomplete = املأ الحقول المميّزة.
relay-error-bad_address = عنوان البريد الإلكتروني غير صالح
relay-error-bad_host = اسم الخادم غير صحيح
relay-error-bad_security = إعداد الأمان غير صحيح
relay-error-unknown_provider = لا يوفّر المُرحِّل تسجيل الدخول هذا
relay-error-limit = بلغتَ الحد الذي يسمح به المُرحِّل
relay-error-not_found = لم يعد موجودًا
relay-error-signin_unavailable = لا يوفّر هذا المُرحِّل تسجيل الدخول لدى المزوّد
relay-error-not_signin = يدخل صندوق البريد هذا بكلمة مرور

## إيجاد إعدادات صندوق البريد من عنوانه (يستخدم المُرحِّل اكتشاف تطبيق سطح المكتب)

relay-discover-button = إيجاد الإعدادات
relay-discover-looking = جارٍ البحث عن إعدادات { $address }…
relay-discover-found = عُثر على الإعدادات: راجعها، ثم أدخل كلمة المرور.
relay-discover-source = مصدرها:
relay-discover-none = لم يُعثر على إعدادات لـ { $domain } — املأها أدناه
relay-discover-signin = يتطلب { $provider } تسجيل الدخول عبر { $signin }، وهو ما لا يوفّره هذا المُرحِّل؛ استخدم كلمة مرور تطبيق إن كان مزوّدك يسمح بذلك
relay-discover-address = أدخل عنوان بريدك الإلكتروني أولًا، مثل ana@example.com.


## تسجيل دخول صندوق البريد لدى مزوّده (OAuth2) بدلًا من كلمة المرور. $signin و$provider اسم
## مزوّد تسجيل الدخول (Google أو Microsoft أو اسم يختاره مشغّل المُرحِّل)؛ و$provider في
## relay-oauth-offer-title هو مزوّد البريد (Gmail).

relay-oauth-offer-title = عُثر على الإعدادات: يسجّل { $provider } الدخول عبر { $signin }.
relay-oauth-offer-help = تسجّل الدخول في صفحة { $signin } نفسها وتسمح للمُرحِّل بقراءة بريدك لإرسال الإشعارات؛ لا يرى المُرحِّل كلمة مرورك أبدًا.
relay-oauth-found = عُثر على الإعدادات: راجعها، ثم سجّل الدخول عبر { $signin }.
relay-oauth-help = تسجّل الدخول في صفحة { $provider } نفسها؛ لا يرى المُرحِّل كلمة مرورك أبدًا.
relay-oauth-manual = الإعداد يدويًا
relay-oauth-opening = جارٍ فتح صفحة تسجيل الدخول في { $provider }…
relay-oauth-bad-url = لم يعطِ المُرحِّل عنوانًا صالحًا لتسجيل الدخول.
relay-oauth-done = تم تسجيل دخول { $name }؛ والمُرحِّل يراقبه الآن.
relay-oauth-done-unnamed = تم تسجيل دخول صندوق البريد؛ والمُرحِّل يراقبه الآن.
relay-oauth-failed-title = لم يكتمل تسجيل الدخول
relay-oauth-failed-denied = رُفض الوصول لدى المزوّد (منك أو بسبب سياسة مؤسستك). لم يُحفظ أي شيء.
relay-oauth-failed-wrong_browser = اكتمل تسجيل الدخول في متصفح غير الذي بدأه، فرفضه المُرحِّل حفاظًا على أمانك. ابدأه من جديد وأكمله في هذا المتصفح.
relay-oauth-failed-expired = استغرق تسجيل الدخول وقتًا أطول من اللازم، أو سبق استخدام رابطه. ابدأه من جديد.
relay-oauth-failed-no_refresh_token = سجّلك المزوّد دون أن يمنح وصولًا دائمًا، فلا يستطيع المُرحِّل مواصلة المراقبة. لم يُحفظ أي شيء؛ قد يحتاج مشغّل المُرحِّل إلى تغيير إعدادات هذا المزوّد.
relay-oauth-failed-login_failed = سجّلت الدخول، لكن خادم البريد رفض الدخول أو تعذّر الوصول إليه. لم يُحفظ أي شيء: راجع إعدادات الخادم وحاول مجددًا.
relay-oauth-failed-provider = أنهى المزوّد تسجيل الدخول بخطأ. لم يُحفظ أي شيء.
relay-oauth-failed-failed = حدث خطأ ما أثناء تسجيل الدخول. لم يُحفظ أي شيء.
relay-oauth-required = سجّل الدخول إلى { $provider } مجددًا: أُلغي الوصول أو انتهت صلاحيته
relay-oauth-required-unnamed = سجّل الدخول مجددًا: أُلغي الوصول أو انتهت صلاحيته
relay-oauth-again = سجّل الدخول مجددًا

## صناديق البريد

relay-mailboxes-subtitle = يراقب المُرحِّل صناديق البريد هذه ويُعلم أجهزتك بالبريد الجديد.
relay-mailboxes-empty = لا توجد صناديق بريد بعد. أضف واحدًا لتصلك إشعارات بريده الجديد.
relay-add-mailbox = إضافة صندوق بريد
relay-add-mailbox-subtitle = يختبر المُرحِّل الاتصال قبل أن يحفظ صندوق البريد.
relay-password-help = يحفظها المُرحِّل مشفّرة. تصلح كلمة مرور التطبيقات إن كان مزوّدك يوفّرها.
relay-mailbox-added = أُضيف { $name }.
relay-mailbox-remove-confirm = إزالة { $name }؟ سيتوقف المُرحِّل عن مراقبته وينسى كلمة مروره. لن يُمس البريد على الخادم.
relay-mailbox-removed = أُزيل صندوق البريد.
relay-remove = إزالة
relay-state-watching = قيد المراقبة
relay-state-starting = جارٍ البدء…
relay-state-connecting = جارٍ الاتصال…
relay-state-auth_failed = كلمة مرور خاطئة
relay-state-unreachable = تعذّر الوصول إلى الخادم
relay-state-error = خطأ
relay-state-backoff = غير متصل، جارٍ إعادة المحاولة
relay-state-disabled = متوقف مؤقتًا
relay-state-unknown = غير معروف

## الأجهزة

relay-devices-subtitle = الهواتف والمتصفحات التي يصلها إشعار عند وصول بريد جديد.
relay-this-device = هذا الجهاز
relay-this-device-off = استلم إشعارًا على هذا الجهاز عند وصول بريد جديد إلى صناديق بريدك.
relay-this-device-on = الإشعارات مفعّلة
relay-notify-this-device = أرسل الإشعارات إلى هذا الجهاز
relay-subscribing = جارٍ سؤال المتصفح…
relay-test-on-its-way = إشعار تجريبي في الطريق.
relay-send-test = أرسل إشعارًا تجريبيًا
relay-stop-notifying = أوقف الإشعارات على هذا الجهاز
relay-stopped = لم يعد هذا الجهاز يتلقى الإشعارات.
relay-saved = تم الحفظ.
relay-device-name = { $browser } على { $system }
relay-device-unnamed = جهاز بلا اسم
relay-device-remove-confirm = إزالة { $name }؟ لن تصله إشعارات بعد الآن.
relay-device-removed = أُزيل الجهاز.
relay-other-devices = أجهزة أخرى
relay-other-devices-empty = لا توجد أجهزة أخرى.
relay-since = منذ { $date }
relay-detail-legend = يعرض الإشعار
relay-detail-none = فقط «بريد جديد في العمل»
relay-detail-sender = المرسل
relay-detail-subject = المرسل والموضوع
relay-detail-short-none = صندوق البريد فقط
relay-detail-short-sender = المرسل
relay-detail-short-subject = المرسل والموضوع
relay-detail-help = تمرّ الإشعارات عبر خدمة الدفع في متصفحك مشفّرة لهذا الجهاز؛ كلما قلّت التفاصيل قلّ ما يظهر على الشاشة المقفلة.
relay-push-denied = الإشعارات محظورة لهذا الموقع. اسمح بها في إعدادات الموقع في المتصفح، ثم حاول مرة أخرى.
relay-push-unsupported = لا يستطيع هذا المتصفح استلام الإشعارات الفورية.
relay-push-ios = على iPhone و iPad، أضف هذه الصفحة إلى الشاشة الرئيسية أولًا (مشاركة ← إضافة إلى الشاشة الرئيسية)، ثم افتحها من هناك.
relay-push-failed = تعذّر على المتصفح الاشتراك في الإشعارات.

## خطافات الويب

relay-webhooks-subtitle = يرسل المُرحِّل إشعارًا إلى هذه العناوين عند وصول بريد جديد، موقّعًا بسرّ خطاف الويب.
relay-webhooks-list = خطافات الويب
relay-webhooks-empty = لا توجد خطافات ويب.
relay-webhook-disabled = متوقف: ظلّ يفشل. أضفه مرة أخرى لإعادة تشغيله.
relay-webhook-add-title = إضافة خطاف ويب
relay-webhook-url = العنوان (URL)
relay-webhook-add = إضافة خطاف ويب
relay-webhook-url-invalid = أدخل عنوانًا يبدأ بـ https:// أو http://.
relay-webhook-secret = السرّ
relay-webhook-secret-once = سرّ { $url }. انسخه الآن: لن يُعرض مرة أخرى.
relay-copy = نسخ
relay-copied = تم النسخ.
relay-copy-failed = تعذّر النسخ: حدّد النص وانسخه.
relay-webhook-remove-confirm = إزالة خطاف الويب { $url }؟
relay-webhook-removed = أُزيل خطاف الويب.
