using System;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>New-OBSecurityPin: issue a security PIN (8 digits, valid 5 minutes) from a vault.</summary>
    [Cmdlet(VerbsCommon.New, "OBSecurityPin")]
    [OutputType(typeof(OBSecurityPin))]
    public sealed class NewOBSecurityPinCommand : OBCmdletBase
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
                DateTimeOffset expires;
                string pin = Native.VaultSecurityPinNew(vault, out expires);
                WriteObject(new OBSecurityPin { SecurityPin = pin, ExpiryTime = expires.LocalDateTime });
            }
        }
    }
}
