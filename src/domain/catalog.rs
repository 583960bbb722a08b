//! The built-in event-type catalog: every event and alarm of the reference product,
//! plus hookcast's own types, with stable codes and names in English and Chinese.
//!
//! Codes are `<category>.<group>.<what>`; the group id is the code's prefix, so the
//! console's tree (category → group → event) is implied by the code.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::event_type::{EventKind, EventType, EventTypeCode, Localized, Severity, TreeNode};

use Severity::{Critical, Emergency, Info, Major};

const fn text(en: &'static str, zh: &'static str) -> Localized {
    Localized { en, zh }
}

const fn node(id: &'static str, en: &'static str, zh: &'static str) -> TreeNode {
    TreeNode {
        id,
        name: text(en, zh),
    }
}

/// One leaf: the last part of the code, the names, the usual severity.
type Item = (&'static str, &'static str, &'static str, Severity);

struct Group {
    kind: EventKind,
    category: TreeNode,
    group: TreeNode,
    items: &'static [Item],
}

const DR: TreeNode = node("dr", "DR", "容灾");
const ALARMS: TreeNode = node("alarm", "Monitoring Alarms", "监控告警");
const SYSTEM: TreeNode = node("hookcast", "hookcast", "hookcast 系统");

/// The four resource alarms every agent-like component has.
macro_rules! component_alarms {
    ($en:literal, $zh:literal) => {
        &[
            (
                "cpu_usage",
                concat!($en, " CPU usage"),
                concat!($zh, " CPU 使用率"),
                Major,
            ),
            (
                "memory_usage",
                concat!($en, " RAM usage"),
                concat!($zh, "内存使用率"),
                Major,
            ),
            (
                "disk_usage",
                concat!($en, " disk usage"),
                concat!($zh, "磁盘使用率"),
                Major,
            ),
            (
                "process",
                concat!($en, " process down"),
                concat!($zh, "进程异常"),
                Critical,
            ),
        ]
    };
}

const GROUPS: &[Group] = &[
    Group {
        kind: EventKind::Event,
        category: DR,
        group: node("dr.host", "DR Host Resources", "容灾主机资源"),
        items: &[
            (
                "config_added",
                "Add DR host configuration",
                "添加容灾主机配置",
                Info,
            ),
            ("booted", "Boot host", "启动主机", Info),
            (
                "resource_cleaned",
                "Clean host resource",
                "清理主机资源",
                Info,
            ),
            (
                "task_force_aborted",
                "Forced abort of task",
                "强制终止任务",
                Major,
            ),
            ("disconnected", "Host disconnected", "主机失联", Critical),
            (
                "connection_recovered",
                "Host connection recovery",
                "主机连接恢复",
                Info,
            ),
            (
                "snapshot_integrity_checked",
                "Host snapshot integrity check",
                "主机快照完整性检查",
                Info,
            ),
            (
                "resource_limited",
                "Limit host resource",
                "限制主机资源",
                Info,
            ),
            (
                "transfer_rate_limited",
                "Limit transfer rate",
                "限制传输速率",
                Info,
            ),
            (
                "recovery_timeout",
                "Host recovery timeout",
                "主机恢复超时",
                Major,
            ),
            ("registered", "Register host", "注册主机", Info),
            ("boot_started", "Start boot host", "开始启动主机", Info),
            (
                "boot_resource_clean_started",
                "Start clean boot resource",
                "开始清理启动资源",
                Info,
            ),
            (
                "resource_limit_started",
                "Start limiting host resource",
                "开始限制主机资源",
                Info,
            ),
            (
                "transfer_rate_limit_started",
                "Start limiting transfer rate",
                "开始限制传输速率",
                Info,
            ),
            ("sync_started", "Start sync host", "开始同步主机", Info),
            (
                "takeover_started",
                "Start takeover host",
                "开始接管主机",
                Major,
            ),
            (
                "resource_unlimit_started",
                "Start unlimiting host resource",
                "开始解除主机资源限制",
                Info,
            ),
            (
                "transfer_rate_unlimit_started",
                "Start unlimiting transfer rate",
                "开始解除传输速率限制",
                Info,
            ),
            ("synced", "Sync host", "同步主机", Info),
            ("taken_over", "Takeover host", "接管主机", Major),
            (
                "resource_unlimited",
                "Unlimit host resource",
                "解除主机资源限制",
                Info,
            ),
            (
                "transfer_rate_unlimited",
                "Unlimit transfer rate",
                "解除传输速率限制",
                Info,
            ),
            (
                "config_updated",
                "Update DR host configuration",
                "更新容灾主机配置",
                Info,
            ),
            (
                "source_sync_config_updated",
                "Update source sync configuration",
                "更新源端同步配置",
                Info,
            ),
        ],
    },
    Group {
        kind: EventKind::Event,
        category: DR,
        group: node("dr.user", "User Resources", "用户资源"),
        items: &[
            ("login", "Login", "登录", Info),
            ("logout", "Logout", "登出", Info),
            ("phone_changed", "Modify phone number", "修改手机号", Info),
            ("password_changed", "Change password", "修改密码", Major),
            ("password_reset", "Reset password", "重置密码", Major),
        ],
    },
    Group {
        kind: EventKind::Event,
        category: DR,
        group: node("dr.license", "License Resources", "许可证资源"),
        items: &[("added", "Add license", "添加许可证", Info)],
    },
    Group {
        kind: EventKind::Event,
        category: DR,
        group: node(
            "dr.production_site",
            "Production Site Resources",
            "生产站点资源",
        ),
        items: &[
            (
                "linux_agent_added",
                "Add Linux agent",
                "添加 Linux 代理",
                Info,
            ),
            (
                "linux_agent_deleted",
                "Delete Linux agent",
                "删除 Linux 代理",
                Info,
            ),
            (
                "windows_agent_added",
                "Add Windows agent",
                "添加 Windows 代理",
                Info,
            ),
            (
                "windows_agent_deleted",
                "Delete Windows agent",
                "删除 Windows 代理",
                Info,
            ),
            ("sync_proxy_added", "Add sync proxy", "添加同步代理", Info),
            (
                "sync_proxy_deleted",
                "Delete sync proxy",
                "删除同步代理",
                Info,
            ),
            ("sync_proxy_bound", "Bind sync proxy", "绑定同步代理", Info),
            (
                "sync_proxy_unbound",
                "Unbind sync proxy",
                "解绑同步代理",
                Info,
            ),
            (
                "sync_proxy_connection_added",
                "Add sync proxy connection",
                "添加同步代理连接",
                Info,
            ),
            (
                "sync_proxy_connection_deleted",
                "Delete sync proxy connection",
                "删除同步代理连接",
                Info,
            ),
            (
                "sync_proxy_vms_refreshed",
                "Refresh sync proxy VMs",
                "刷新同步代理虚拟机",
                Info,
            ),
            (
                "sync_proxy_connection_updated",
                "Update sync proxy connection",
                "更新同步代理连接",
                Info,
            ),
        ],
    },
    Group {
        kind: EventKind::Event,
        category: DR,
        group: node("dr.dr_site", "DR Site Resources", "容灾站点资源"),
        items: &[
            (
                "cloud_account_added",
                "Add cloud account",
                "添加云账号",
                Info,
            ),
            (
                "cloud_account_deleted",
                "Delete cloud account",
                "删除云账号",
                Info,
            ),
            (
                "cloud_account_updated",
                "Update cloud account",
                "更新云账号",
                Info,
            ),
            (
                "cloud_sync_gateway_created",
                "Create cloud sync gateway",
                "创建云同步网关",
                Info,
            ),
            (
                "cloud_sync_gateway_deleted",
                "Delete cloud sync gateway",
                "删除云同步网关",
                Info,
            ),
        ],
    },
    Group {
        kind: EventKind::Event,
        category: DR,
        group: node("dr.monitoring", "Monitoring Alarm", "监控告警"),
        items: &[
            ("alarm_created", "Create alarm", "创建告警", Info),
            ("alarm_deleted", "Delete alarm", "删除告警", Info),
            ("alarm_updated", "Update alarm", "更新告警", Info),
            (
                "notification_created",
                "Create notification",
                "创建通知",
                Info,
            ),
            (
                "notification_deleted",
                "Delete notification",
                "删除通知",
                Info,
            ),
            (
                "notification_updated",
                "Update notification",
                "更新通知",
                Info,
            ),
        ],
    },
    Group {
        kind: EventKind::Event,
        category: DR,
        group: node("dr.resource_group", "Resource Groups", "资源组"),
        items: &[
            ("created", "Create resource group", "创建资源组", Info),
            ("deleted", "Delete resource group", "删除资源组", Info),
            (
                "resources_clean_started",
                "Start clean resources",
                "开始清理资源",
                Info,
            ),
            ("resources_cleaned", "Clean resources", "清理资源", Info),
            ("data_sync_started", "Start sync data", "开始同步数据", Info),
            ("data_synced", "Sync data", "同步数据", Info),
            ("drill_started", "Start drill", "开始演练", Info),
            ("drilled", "Drill", "演练", Info),
            ("takeover_started", "Start takeover", "开始接管", Major),
            ("taken_over", "Takeover", "接管", Major),
        ],
    },
    Group {
        kind: EventKind::Event,
        category: DR,
        group: node("dr.object_storage", "Object Storage", "对象存储"),
        items: &[
            ("added", "Add object storage", "添加对象存储", Info),
            ("deleted", "Delete object storage", "删除对象存储", Info),
            ("updated", "Update object storage", "更新对象存储", Info),
        ],
    },
    Group {
        kind: EventKind::Event,
        category: DR,
        group: node("dr.resource_policy", "Resource Policies", "资源策略"),
        items: &[
            ("created", "Create resource policy", "创建资源策略", Info),
            ("deleted", "Delete resource policy", "删除资源策略", Info),
            ("updated", "Update resource policy", "更新资源策略", Info),
            (
                "associated",
                "Associate resource policy",
                "关联资源策略",
                Info,
            ),
            (
                "disassociated",
                "Disassociate resource policy",
                "取消关联资源策略",
                Info,
            ),
        ],
    },
    Group {
        kind: EventKind::Alarm,
        category: ALARMS,
        group: node("alarm.host", "Host", "主机"),
        items: &[
            ("cpu_usage", "Host CPU usage", "主机 CPU 使用率", Major),
            ("memory_usage", "Host memory usage", "主机内存使用率", Major),
            (
                "root_disk_usage",
                "Host root disk usage",
                "主机根磁盘使用率",
                Major,
            ),
            (
                "unhealthy_containers",
                "Unhealthy containers",
                "容器状态异常",
                Critical,
            ),
            (
                "rabbitmq_queue_backlog",
                "RabbitMQ queue backlog",
                "RabbitMQ 队列积压",
                Major,
            ),
        ],
    },
    Group {
        kind: EventKind::Alarm,
        category: ALARMS,
        group: node("alarm.sync_proxy", "Sync Proxy", "同步代理"),
        items: component_alarms!("Sync proxy", "同步代理"),
    },
    Group {
        kind: EventKind::Alarm,
        category: ALARMS,
        group: node(
            "alarm.cloud_sync_gateway",
            "Cloud Sync Gateway",
            "云同步网关",
        ),
        items: component_alarms!("Cloud sync gateway", "云同步网关"),
    },
    Group {
        kind: EventKind::Alarm,
        category: ALARMS,
        group: node("alarm.linux_agent", "Linux Agent", "Linux 代理"),
        items: component_alarms!("Linux agent", "Linux 代理"),
    },
    Group {
        kind: EventKind::Alarm,
        category: ALARMS,
        group: node("alarm.windows_agent", "Windows Agent", "Windows 代理"),
        items: component_alarms!("Windows agent", "Windows 代理"),
    },
    Group {
        kind: EventKind::Alarm,
        category: ALARMS,
        group: node("alarm.object_storage", "Object Storage", "对象存储"),
        items: &[(
            "capacity",
            "Object storage capacity",
            "对象存储容量",
            Emergency,
        )],
    },
    Group {
        kind: EventKind::Event,
        category: SYSTEM,
        group: node("hookcast.webhook", "Webhooks", "WebHook"),
        items: &[(
            "disabled",
            "Webhook disabled automatically",
            "WebHook 已被自动禁用",
            Major,
        )],
    },
];

/// Sent by "Send Test" to any webhook, whatever it subscribes to.
pub const TEST_EVENT_CODE: &str = "hookcast.test";

/// A Prometheus alert no rule maps to a type of its own (see `alertmanager_types`).
pub const PROMETHEUS_ALERT_CODE: &str = "alarm.prometheus";

/// All known event types, in the console's display order, with lookup by code.
#[derive(Debug)]
pub struct Catalog {
    types: Vec<EventType>,
    by_code: HashMap<String, usize>,
}

impl Catalog {
    /// The catalog compiled into the binary.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: LazyLock<Catalog> = LazyLock::new(Catalog::build);
        &BUILTIN
    }

    fn build() -> Catalog {
        let mut types: Vec<EventType> = GROUPS
            .iter()
            .flat_map(|group| {
                group
                    .items
                    .iter()
                    .map(move |&(leaf, en, zh, severity)| EventType {
                        code: EventTypeCode::parse(&format!("{}.{leaf}", group.group.id))
                            .expect("built-in codes are valid"),
                        kind: group.kind,
                        category: group.category,
                        group: group.group,
                        name: text(en, zh),
                        default_severity: severity,
                        subscribable: true,
                    })
            })
            .collect();
        types.push(EventType {
            code: EventTypeCode::parse(PROMETHEUS_ALERT_CODE).expect("valid"),
            kind: EventKind::Alarm,
            category: ALARMS,
            group: node(PROMETHEUS_ALERT_CODE, "Prometheus", "Prometheus"),
            name: text("Prometheus alert", "Prometheus 告警"),
            default_severity: Major,
            subscribable: true,
        });
        types.push(EventType {
            code: EventTypeCode::parse(TEST_EVENT_CODE).expect("valid"),
            kind: EventKind::Event,
            category: SYSTEM,
            group: node("hookcast", "hookcast", "hookcast 系统"),
            name: text("Test message", "测试消息"),
            default_severity: Info,
            subscribable: false,
        });
        let by_code = types
            .iter()
            .enumerate()
            .map(|(index, t)| (t.code.as_str().to_string(), index))
            .collect();
        Catalog { types, by_code }
    }

    pub fn all(&self) -> &[EventType] {
        &self.types
    }

    pub fn get(&self, code: &str) -> Option<&EventType> {
        self.by_code.get(code).map(|&index| &self.types[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.by_code.len(), catalog.all().len());
    }

    #[test]
    fn the_product_page_events_have_their_codes() {
        let catalog = Catalog::builtin();
        let disconnected = catalog.get("dr.host.disconnected").unwrap();
        assert_eq!(disconnected.name.en, "Host disconnected");
        assert_eq!(disconnected.name.zh, "主机失联");
        let timeout = catalog.get("dr.host.recovery_timeout").unwrap();
        assert_eq!(timeout.kind, EventKind::Event);
        assert_eq!(timeout.name.en, "Host recovery timeout");
    }

    #[test]
    fn every_code_starts_with_its_group_and_category() {
        for t in Catalog::builtin().all() {
            assert!(t.code.as_str().starts_with(t.group.id), "{}", t.code);
            assert!(t.group.id.starts_with(t.category.id), "{}", t.code);
            assert!(!t.name.en.is_empty() && !t.name.zh.is_empty(), "{}", t.code);
        }
    }
}
