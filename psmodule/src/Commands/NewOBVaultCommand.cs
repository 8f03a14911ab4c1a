using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// New-OBVault: create a vault (obagent's own; MARS vaults come from the portal) in a local folder
    /// (-Path) or in an Azure Blob Storage container (-StorageAccountName, -StorageAccountKey,
    /// -ContainerName, optional -Endpoint for Azurite or a sovereign cloud, -AccessDays for the
    /// validity of the access tokens in credentials files). -StorageAccountKey takes a string, as
    /// MARS-style scripts pass it, or a SecureString.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "OBVault", DefaultParameterSetName = AzureVault.PathSet)]
    [OutputType(typeof(OBVault))]
    public sealed class NewOBVaultCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        [Parameter(Mandatory = true, Position = 1, ParameterSetName = AzureVault.PathSet)]
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

        [Parameter(ParameterSetName = AzureVault.AzureSet)]
        [ValidateRange(1, 3650)]
        public int AccessDays { get; set; }

        protected override object ErrorTarget
        {
            get { return Path ?? ContainerName; }
        }

        protected override void Execute()
        {
            if (ParameterSetName == AzureVault.AzureSet)
            {
                using (VaultHandle vault = Native.VaultCreateAzure(Name,
                    AzureVault.Info(StorageAccountName, StorageAccountKey, ContainerName, Endpoint, AccessDays)))
                {
                    WriteObject(VaultMapping.ToOBVault(vault));
                }
                return;
            }
            string path = TrimSeparator(ResolvePath(Path));
            using (VaultHandle vault = Native.VaultCreate(path, Name))
            {
                WriteObject(VaultMapping.ToOBVault(vault));
            }
        }
    }
}
