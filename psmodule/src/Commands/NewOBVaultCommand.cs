using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>New-OBVault: create a vault in a local folder (obagent's own; MARS vaults come from the portal).</summary>
    [Cmdlet(VerbsCommon.New, "OBVault")]
    [OutputType(typeof(OBVault))]
    public sealed class NewOBVaultCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        protected override object ErrorTarget
        {
            get { return Path; }
        }

        protected override void Execute()
        {
            string path = TrimSeparator(ResolvePath(Path));
            using (VaultHandle vault = Native.VaultCreate(path, Name))
            {
                WriteObject(ToOBVault(vault));
            }
        }
    }
}
