using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Test-OBRecoveryPoint (obagent extension): read back and authenticate everything a recovery
    /// point needs (its trees and every chunk of every file), writing nothing, and say whether it
    /// can be restored in full. Damage is a result (Healthy $false, Damaged lists the files and
    /// folders hit), not an error; only failures to read the vault at all are errors.
    ///
    /// Refusals made here: RecoverableItemNotUsable (InvalidArgument), an item that did not come
    /// from this module.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "OBRecoveryPoint")]
    [OutputType(typeof(OBRecoveryPointTest))]
    public sealed class TestOBRecoveryPointCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBRecoverableItem RecoverableItem { get; set; }

        [Parameter]
        public SecureString EncryptionPassphrase { get; set; }

        protected override object ErrorTarget
        {
            get { return RecoverableItem; }
        }

        protected override void Execute()
        {
            if (!RecoverableItem.Usable)
            {
                ThrowError("This recoverable item was not made by Get-OBRecoverableItem in this session (it may have been deserialized); "
                    + "get the recovery point again with Get-OBRecoverableItem -Source.",
                    "RecoverableItemNotUsable", ErrorCategory.InvalidArgument, RecoverableItem);
                return;
            }
            ulong objects;
            List<OBFailedFile> damage;
            using (AgentHandle agent = Native.AgentOpen(null))
            using (RecoveryHandle rec = RecoveryItems.Open(agent, RecoverableItem.OtherServer, EncryptionPassphrase))
            {
                damage = Native.RecoveryTest(rec, RecoverableItem.RecoveryPointId, out objects);
                // Objects skipped on the way (damaged or forged index objects) fail nothing: warnings.
                foreach (OBFailedFile w in Native.RecoveryWarnings(rec))
                    WriteWarning("Vault object " + w.Path + " " + w.Reason);
            }
            var damaged = new OBRecoveryDamage[damage.Count];
            for (int i = 0; i < damaged.Length; i++)
                damaged[i] = new OBRecoveryDamage { Path = damage[i].Path, Problem = damage[i].Reason };
            WriteObject(new OBRecoveryPointTest
            {
                RecoveryPointTime = RecoverableItem.RecoveryPointLocalTime,
                ServerName = RecoverableItem.ServerName,
                RecoveryPointId = RecoverableItem.RecoveryPointId,
                ObjectsChecked = objects,
                Healthy = damaged.Length == 0,
                Damaged = damaged,
            });
        }
    }
}
