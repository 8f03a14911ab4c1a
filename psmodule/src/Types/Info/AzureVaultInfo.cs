using System;

namespace OBAgent
{
    /// <summary>Where a vault on Azure Blob Storage is (ob_vault_azure_options); AccountKey is the owner's secret.</summary>
    internal sealed class AzureVaultInfo
    {
        internal string Endpoint;
        internal string Account;
        internal string AccountKey;
        internal string Container;
        internal int AccessDays;
    }
}
