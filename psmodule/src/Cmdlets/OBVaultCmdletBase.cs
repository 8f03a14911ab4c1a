using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// What the cmdlets that open a vault as its owner share: the vault named by a local folder
    /// (-Path, the default set) or by an Azure Blob Storage container (-StorageAccountName,
    /// -StorageAccountKey as a string or a SecureString, -ContainerName, optional -Endpoint).
    /// </summary>
    public abstract class OBVaultCmdletBase : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = AzureVault.PathSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = AzureVault.AzureSet)]
        [ValidateNotNullOrEmpty]
        public string StorageAccountName { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = AzureVault.AzureSet)]
        [SecureStringToString]
        [ValidateNotNullOrEmpty]
        public string StorageAccountKey { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = AzureVault.AzureSet)]
        [ValidateNotNullOrEmpty]
        public string ContainerName { get; set; }

        [Parameter(ParameterSetName = AzureVault.AzureSet)]
        public string Endpoint { get; set; }

        protected override object ErrorTarget
        {
            get { return Path ?? ContainerName; }
        }

        /// <summary>Open the vault the parameters name.</summary>
        internal VaultHandle OpenVault()
        {
            if (ParameterSetName == AzureVault.AzureSet)
                return Native.VaultOpenAzure(AzureVault.Info(StorageAccountName, StorageAccountKey, ContainerName, Endpoint, 0));
            return Native.VaultOpen(TrimSeparator(ResolvePath(Path)));
        }
    }
}
