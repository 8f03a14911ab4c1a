<#
.SYNOPSIS
    obagent's main job: the MARS journey against a local vault in a temporary folder.
.DESCRIPTION
    Creates a vault and its vault credentials file, registers this server with it,
    sets the encryption passphrase, builds a policy for a sample folder, backs it up,
    restores it to another folder and checks that the restored tree is identical
    (content, modes, times). Everything lives in a temporary folder (the agent's
    state too, through OBAGENT_HOME), which is removed at the end unless -Keep is given.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [switch] $Keep
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
Import-Module (Join-Path $ModulePath 'OBAgent.psd1')

function New-SampleFolder([string] $Path) {
    # Text, binary, nested folders, an empty file, a symbolic link and an excluded file.
    New-Item -ItemType Directory -Path (Join-Path $Path 'docs/2026') -Force | Out-Null
    1..200 | ForEach-Object { "line $_ of the quarterly report" } | Set-Content (Join-Path $Path 'docs/report.txt')
    Set-Content (Join-Path $Path 'docs/2026/notes.md') '# Notes'
    $bytes = [byte[]]::new(12MB)
    [System.Random]::new(7).NextBytes($bytes)
    [System.IO.File]::WriteAllBytes((Join-Path $Path 'image.bin'), $bytes)
    New-Item -ItemType File -Path (Join-Path $Path 'empty.txt') | Out-Null
    New-Item -ItemType SymbolicLink -Path (Join-Path $Path 'latest') -Target 'docs/report.txt' | Out-Null
    Set-Content (Join-Path $Path 'scratch.tmp') 'not backed up'
}

function Compare-Tree([string] $Expected, [string] $Actual) {
    $want = Get-ChildItem -LiteralPath $Expected -Recurse -Force | Where-Object Name -notlike '*.tmp'
    foreach ($e in $want) {
        $rel = $e.FullName.Substring($Expected.Length)
        $a = Get-Item -Force -LiteralPath (Join-Path $Actual $rel) -ErrorAction SilentlyContinue
        if (-not $a) { throw "Missing after restore: $rel" }
        if ($e.LinkType) {
            if ($a.Target -ne $e.Target) { throw "Link target differs: $rel" }
            continue
        }
        if ($e.UnixMode -ne $a.UnixMode) { throw "Mode differs: $rel" }
        if (-not $e.PSIsContainer) {
            if ($e.LastWriteTimeUtc -ne $a.LastWriteTimeUtc) { throw "Time differs: $rel" }
            if ((Get-FileHash -LiteralPath $e.FullName).Hash -ne (Get-FileHash -LiteralPath $a.FullName).Hash) {
                throw "Content differs: $rel"
            }
        }
    }
    $extra = (Get-ChildItem -LiteralPath $Actual -Recurse -Force).Count - $want.Count
    if ($extra -ne 0) { throw "The restored tree has $extra more entries than the source." }
}

$work = Join-Path ([System.IO.Path]::GetTempPath()) ("obagent-main-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $work | Out-Null
$env:OBAGENT_HOME = Join-Path $work 'agent'
try {
    Write-Host "== 1. Create a vault and get its vault credentials file"
    $vault = New-OBVault -Name 'SampleVault' -Path (Join-Path $work 'vault')
    $vault | Format-List Name, VaultId, Path, StorageType
    $cred = Get-OBVaultCredentials -Path $vault.Path -OutputPath (Join-Path $work 'credentials')
    Write-Host "Vault credentials: $($cred.FullName)"

    Write-Host "== 2. Register this server and set the encryption passphrase"
    Start-OBRegistration -VaultCredentials $cred.FullName -Confirm:$false
    # A sample passphrase: keep a real one somewhere other than this server.
    $passphrase = ConvertTo-SecureString -String 'sample passphrase, 16+ characters' -AsPlainText -Force
    Set-OBMachineSetting -EncryptionPassphrase $passphrase -SecurityPin ' '
    Set-OBMachineSetting -NoProxy
    Set-OBMachineSetting -NoThrottle

    Write-Host "== 3. Machine settings"
    $settings = Get-OBMachineSetting
    $settings | Format-List
    if ($settings.EncryptionSetting.EncryptionKeyStatus -ne 'Set') { throw 'The encryption key is not set.' }

    Write-Host "== 4. A sample folder and a policy for it"
    $data = Join-Path $work 'SampleData'
    New-SampleFolder -Path $data
    $policy = New-OBPolicy
    Add-OBFileSpec -Policy $policy -FileSpec (New-OBFileSpec -FileSpec $data) | Out-Null
    Add-OBFileSpec -Policy $policy -FileSpec (New-OBFileSpec -FileSpec (Join-Path $data '*.tmp') -Exclude) | Out-Null
    Set-OBPolicy -Policy $policy -Confirm:$false | Out-Null
    Get-OBPolicy | Get-OBFileSpec | Format-Table FileSpec, IsExclude, IsRecursive

    Write-Host "== 5. Back up now"
    Get-OBPolicy | Start-OBBackup
    $job = Get-OBJob -Previous 1
    if ($job.JobStatus.JobState -ne 'Completed') { throw "The backup ended $($job.JobStatus.JobState)." }

    Write-Host "== 6. Restore the folder elsewhere and compare"
    $source = Get-OBRecoverableSource | Select-Object -First 1
    $point = Get-OBRecoverableItem -Source $source | Select-Object -First 1
    $relative = $data.TrimStart('/').Substring($source.FriendlyName.TrimStart('/').Length).TrimStart('/')
    $item = New-OBRecoverableItem $point $relative $true
    $restoreTo = Join-Path $work 'Restored'
    $option = New-OBRecoveryOption -DestinationPath $restoreTo -OverwriteType Overwrite
    Start-OBRecovery -RecoverableItem $item -RecoveryOption $option
    $restored = Join-Path $restoreTo $relative
    Compare-Tree -Expected $data -Actual $restored
    Write-Host "Restored tree is identical to the source ($((Get-ChildItem -Recurse -File $data | Where-Object Name -notlike '*.tmp').Count) files)."
    Write-Host "Main job completed successfully."
}
finally {
    Remove-Item Env:OBAGENT_HOME -ErrorAction SilentlyContinue
    if (-not $Keep) { Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue }
    else { Write-Host "Kept $work" }
}
