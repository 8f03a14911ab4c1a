# The README's main job on Windows (run by .ci/windows in the PowerShell host under wine64): a vault,
# its credentials, registration, a passphrase, a policy with C:\ paths, a backup, a restore to
# another folder, and a byte-for-byte comparison. Prints "Main job completed successfully." last.
param([Parameter(Mandatory)] [string] $ModuleRoot, [Parameter(Mandatory)] [string] $Work)
$ErrorActionPreference = 'Stop'
$env:OBAGENT_HOME = Join-Path $Work 'state'
$env:OBAGENT_SERVER_NAME = 'win-lane'
$data = Join-Path $Work 'data'
$vault = Join-Path $Work 'vault'
$restored = Join-Path $Work 'restored'

# Both names load, as scripts written for MARS import MSOnlineBackup.
Import-Module (Join-Path $ModuleRoot 'MSOnlineBackup\MSOnlineBackup.psd1')
if (-not (Get-Command Start-OBBackup -ErrorAction SilentlyContinue)) { throw 'MSOnlineBackup did not bring the OBAgent cmdlets' }
"OBAgent $((Get-Command Start-OBBackup).Module.Version) on $([Environment]::OSVersion.VersionString)"

New-Item -ItemType Directory -Force -Path (Join-Path $data 'reports\2026') | Out-Null
Set-Content -Path (Join-Path $data 'reports\2026\q1.txt') -Value ('quarter one ' * 500)
Set-Content -Path (Join-Path $data 'reports\readme.txt') -Value 'Café, naïve: non-ASCII names and text'
$rng = [System.Random]::new(42); $bytes = [byte[]]::new(1500000); $rng.NextBytes($bytes)
[System.IO.File]::WriteAllBytes((Join-Path $data 'big.bin'), $bytes)
New-Item -ItemType Directory -Force -Path (Join-Path $data 'naïve folder') | Out-Null
Set-Content -Path (Join-Path $data 'naïve folder\notes.txt') -Value 'notes'

New-OBVault -Name 'Lane-Vault' -Path $vault | Out-Null
$cred = Get-OBVaultCredentials -Path $vault -OutputPath (Join-Path $Work 'creds')
if (-not $cred.FullName.StartsWith($Work, [StringComparison]::OrdinalIgnoreCase)) { throw "credentials file at $($cred.FullName)" }
Start-OBRegistration -VaultCredentials $cred.FullName -Confirm:$false | Out-Null
Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-SecureString 'Windows-Lane-Passphrase-2026' -AsPlainText -Force) -WarningAction SilentlyContinue | Out-Null

# A file spec by volume GUID (\\?\Volume{GUID}\...) names the same folder by its drive letter.
Add-Type -Namespace ObLane -Name Volume -MemberDefinition '[DllImport("kernel32.dll", CharSet = CharSet.Unicode)] public static extern bool GetVolumeNameForVolumeMountPointW(string mount, System.Text.StringBuilder volume, int size);'
$guid = [System.Text.StringBuilder]::new(64)
if (-not [ObLane.Volume]::GetVolumeNameForVolumeMountPointW($data.Substring(0, 3), $guid, 64)) { throw 'no volume GUID for the data drive' }
$byGuid = (New-OBFileSpec -FileSpec ($guid.ToString() + $data.Substring(3))).FilePath
if ($byGuid -ne $data) { throw "the spec $($guid)$($data.Substring(3)) shows '$byGuid', not '$data'" }
# A volume mounted nowhere names no drive: the spec shows as it was given (its inclusion is reported missing).
$nowhere = '\\?\Volume{12345678-0000-0000-0000-000000000000}\data'
if ((New-OBFileSpec -FileSpec $nowhere).FilePath -ne $nowhere) { throw "the spec $nowhere shows '$((New-OBFileSpec -FileSpec $nowhere).FilePath)'" }

$policy = New-OBPolicy
Add-OBFileSpec -Policy $policy -FileSpec (New-OBFileSpec -FileSpec $data) | Out-Null
Set-OBSchedule -Policy $policy -Schedule (New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 21:00) | Out-Null
Set-OBRetentionPolicy -Policy $policy -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 30) | Out-Null
Set-OBPolicy -Policy $policy -Confirm:$false | Out-Null
$spec = (Get-OBFileSpec -Policy (Get-OBPolicy))[0]
if ($spec.FilePath -ne $data) { throw "the policy shows '$($spec.FilePath)', not '$data'" }

$last = Get-OBPolicy | Start-OBBackup | Select-Object -Last 1
if ($last -ne 'The backup operation completed successfully.') { throw "backup: $last" }
$job = Get-OBJob -Previous 1
if ($job.JobStatus.JobState -ne 'Completed') { throw "backup job: $($job.JobStatus.JobState)" }

$source = @(Get-OBRecoverableSource)[0]
if ($source.FriendlyName -notmatch '^[A-Za-z]:\\$') { throw "data source '$($source.FriendlyName)' is not a volume" }
$point = @(Get-OBRecoverableItem -Source $source)[0]
$item = New-OBRecoverableItem $point ($data.Substring(3)) $true
$last = Start-OBRecovery -RecoverableItem $item -RecoveryOption (New-OBRecoveryOption -DestinationPath $restored -OverwriteType Overwrite) | Select-Object -Last 1
if ($last -ne 'The recovery operation completed successfully.') { throw "recovery: $last" }

$back = Join-Path $restored $data.Substring(3)
$want = @(Get-ChildItem -LiteralPath $data -Recurse -File)
foreach ($f in $want) {
    $copy = Join-Path $back $f.FullName.Substring($data.Length + 1)
    if (-not (Test-Path -LiteralPath $copy)) { throw "not restored: $copy" }
    if ((Get-FileHash -LiteralPath $f.FullName).Hash -ne (Get-FileHash -LiteralPath $copy).Hash) { throw "differs: $copy" }
    if ((Get-Item -LiteralPath $copy).LastWriteTimeUtc -ne $f.LastWriteTimeUtc) { throw "time differs: $copy" }
}
"$($want.Count) files restored to $back, byte for byte"

# Restore to the original location (no -DestinationPath): a deleted file comes back where it was.
$lost = Join-Path $data 'big.bin'
$hash = (Get-FileHash -LiteralPath $lost).Hash
Remove-Item -LiteralPath $lost
$item = New-OBRecoverableItem $point ($data.Substring(3) + '\big.bin') $false
$last = Start-OBRecovery -RecoverableItem $item -RecoveryOption (New-OBRecoveryOption -OverwriteType Overwrite) | Select-Object -Last 1
if ($last -ne 'The recovery operation completed successfully.') { throw "recovery to the original location: $last" }
if (-not (Test-Path -LiteralPath $lost) -or (Get-FileHash -LiteralPath $lost).Hash -ne $hash) { throw "not restored in place: $lost" }
'a deleted file restored to its original location'

# A file another program holds without sharing it: without Volume Shadow Copy it cannot be read, so
# the backup names it with the reason and what to do, and ends with a warning, never "successfully".
# (Changed while held, so the backup must read it: an unchanged file is in the vault already.)
$held = [System.IO.File]::Open((Join-Path $data 'reports\2026\q1.txt'), 'Open', 'ReadWrite', 'None')
try {
    $held.Seek(0, 'End') | Out-Null
    $held.Write([byte[]](65, 66, 67), 0, 3); $held.Flush()
    $out = @(Get-OBPolicy | Start-OBBackup -WarningVariable warned -WarningAction SilentlyContinue)
} finally { $held.Dispose() }
if ($out[-1] -notmatch 'completed with warnings') { throw "backup of a held file: $($out[-1])" }
if ((Get-OBJob -Previous 1).JobStatus.JobState -ne 'CompletedWithWarning') { throw 'a held file did not make the job CompletedWithWarning' }
if (-not ($warned -match 'q1\.txt' -and $warned -match 'Volume Shadow Copy')) { throw "the warning does not name the held file and why: $warned" }
'a file held without sharing: named, with the reason (no Volume Shadow Copy), job CompletedWithWarning'
'Main job completed successfully.'
