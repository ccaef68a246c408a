package import Domain

/// Every port, implemented once in SQL that SQLite and PostgreSQL both run, over an ``SQLExecutor``.
package struct SQLStores: Stores {
    package let leads: any LeadStore
    package let identities: any IdentityStore
    package let events: any EventStore
    package let scores: any ScoreStore
    package let criteria: any CriteriaStore
    package let stages: any StageStore
    package let reports: any ReportStore
    package let costs: any CostStore
    package let keys: any KeyStore
    package let audit: any AuditLog
    package let outbox: any OutboxStore
    package let webhooks: any WebhookStore
    package let suppressions: any SuppressionStore
    package let jobs: any JobStore
    package let users: any UserStore

    package init(executor: any SQLExecutor) {
        leads = SQLLeadStore(executor: executor)
        identities = SQLIdentityStore(executor: executor)
        events = SQLEventStore(executor: executor)
        scores = SQLScoreStore(executor: executor)
        criteria = SQLCriteriaStore(executor: executor)
        stages = SQLStageStore(executor: executor)
        reports = SQLReportStore(executor: executor)
        costs = SQLCostStore(executor: executor)
        keys = SQLKeyStore(executor: executor)
        audit = SQLAuditLog(executor: executor)
        outbox = SQLOutboxStore(executor: executor)
        webhooks = SQLWebhookStore(executor: executor)
        suppressions = SQLSuppressionStore(executor: executor)
        jobs = SQLJobStore(executor: executor)
        users = SQLUserStore(executor: executor)
    }
}
