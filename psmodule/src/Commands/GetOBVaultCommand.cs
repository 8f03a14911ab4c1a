using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>Get-OBVault: open the vault in a local folder and describe it.</summary>
    [Cmdlet(VerbsCommon.Get, "OBVault")]
    [OutputType(typeof(OBVault))]
    public sealed class GetOBVaultCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        protected override object ErrorTarget
        {
            get { return Path; }
        }

        protected override void Execute()
        {
            using (VaultHandle vault = Native.VaultOpen(TrimSeparator(ResolvePath(Path))))
            {
                WriteObject(ToOBVault(vault));
            }
        }
    }
}
