//! The StatusNotifierItem (with its com.canonical.dbusmenu menu) through ksni: pure Rust, no
//! GTK and no X connection. It only renders what [`crate::model`] computed; a click sends the
//! entry's [`MenuAction`] back to the app's loop.

use ksni::menu::{StandardItem, SubMenu};
use ksni::{Category, Icon, MenuItem, Status, ToolTip, TrayMethods};
use tokio::sync::mpsc;

use crate::badge;
use crate::model::{Look, MenuAction, MenuEntry};

/// Everything the tray shows, replaced as a whole on each update.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub look: Option<Look>,
    pub unread: u32,
    pub title: String,
    pub tooltip_title: String,
    pub tooltip_body: String,
    pub menu: Vec<MenuEntry>,
}

pub struct Tray {
    view: View,
    icons: Vec<Icon>,
    clicks: mpsc::Sender<MenuAction>,
}

impl Tray {
    fn set_view(&mut self, view: View) {
        if self.view.look != view.look || self.view.unread != view.unread {
            let look = view.look.unwrap_or(Look::Idle);
            self.icons = badge::TRAY_SIZES
                .iter()
                .map(|size| {
                    let img = badge::render(look, view.unread, *size);
                    Icon {
                        width: i32::try_from(img.width).unwrap_or(0),
                        height: i32::try_from(img.height).unwrap_or(0),
                        data: img.to_argb32(),
                    }
                })
                .collect();
        }
        self.view = view;
    }

    fn item(&self, entry: &MenuEntry) -> MenuItem<Self> {
        match entry {
            MenuEntry::Separator => MenuItem::Separator,
            MenuEntry::Item {
                label,
                action,
                enabled,
            } => {
                let action = action.clone();
                StandardItem {
                    label: label.clone(),
                    enabled: *enabled,
                    activate: Box::new(move |tray: &mut Self| {
                        if tray.clicks.try_send(action.clone()).is_err() {
                            tracing::warn!("menu click dropped: the app is busy");
                        }
                    }),
                    ..Default::default()
                }
                .into()
            }
            MenuEntry::Submenu { label, items } => SubMenu {
                label: label.clone(),
                submenu: items.iter().map(|e| self.item(e)).collect(),
                ..Default::default()
            }
            .into(),
        }
    }
}

impl ksni::Tray for Tray {
    const MENU_ON_ACTIVATE: bool = true;

    fn id(&self) -> String {
        "pushmail".into()
    }

    fn category(&self) -> Category {
        Category::Communications
    }

    fn title(&self) -> String {
        self.view.title.clone()
    }

    fn status(&self) -> Status {
        match self.view.look {
            Some(Look::Attention) => Status::NeedsAttention,
            _ => Status::Active,
        }
    }

    fn icon_pixmap(&self) -> Vec<Icon> {
        self.icons.clone()
    }

    fn attention_icon_pixmap(&self) -> Vec<Icon> {
        self.icons.clone()
    }

    fn tool_tip(&self) -> ToolTip {
        ToolTip {
            title: self.view.tooltip_title.clone(),
            // The SNI tooltip body may be read as markup: account names are the user's text.
            description: pushmail_core::display::escape_markup(&self.view.tooltip_body),
            ..Default::default()
        }
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        self.view.menu.iter().map(|e| self.item(e)).collect()
    }

    fn watcher_offline(&self, reason: ksni::OfflineReason) -> bool {
        // Keep the item: a tray host that restarts (or starts after us) picks it up again.
        tracing::info!("no tray host right now ({reason:?}); the item waits for one");
        true
    }
}

/// A running tray item.
pub struct Handle(ksni::Handle<Tray>);

impl Handle {
    /// Publishes `view`. Returns at once if the tray service is gone.
    pub async fn show(&self, view: View) {
        self.0.update(move |t| t.set_view(view)).await;
    }

    pub async fn shutdown(&self) {
        self.0.shutdown().await;
    }
}

/// Registers the item on the session bus. A bus without a StatusNotifierWatcher is not an
/// error: the item appears when a tray host starts.
pub async fn spawn(view: View, clicks: mpsc::Sender<MenuAction>) -> Result<Handle, ksni::Error> {
    let mut tray = Tray {
        view: View::default(),
        icons: Vec::new(),
        clicks,
    };
    tray.set_view(view);
    let handle = tray.assume_sni_available(true).spawn().await?;
    Ok(Handle(handle))
}
